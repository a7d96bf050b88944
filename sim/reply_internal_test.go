package sim

// Internal test: Env.Send answers on the connection of the Message call
// without looking the connection up (World.reply); what it skips must not
// change what a send does.

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// answerer dials peer (itself, possibly) and sends a message; on every
// Message it calls answer.
type answerer struct {
	BaseNode
	env    *Env
	peer   NodeID
	answer func(a *answerer, c ConnID, msg any)
}

func (a *answerer) Start(env *Env) {
	a.env = env
	if a.peer != "" {
		env.Send(env.Dial(a.peer), 0)
	}
}

func (a *answerer) Message(c ConnID, _ NodeID, msg any) { a.answer(a, c, msg) }

// The end the cached answer sends from is the one endOf finds, also on a
// connection a node dialed to itself, where both ends are that node.
func TestAnswerSendsFromTheEndEndOfFinds(t *testing.T) {
	for _, peer := range []NodeID{"a", "b"} {
		t.Run(string(peer), func(t *testing.T) {
			require.Equal(t, answerRun(t, peer), answerRun(t, peer))
		})
	}
}

// answerRun runs the answering pair once and returns its fingerprint.
func answerRun(t *testing.T, peer NodeID) uint64 {
	w := NewWorld(Config{Seed: 1})
	var sends int
	check := func(a *answerer, c ConnID, msg any) {
		r := w.reply
		require.Same(t, a.env, r.env)
		require.Equal(t, c, r.id)
		require.Equal(t, r.c.endOf(a.env.n), r.end)
		if n := msg.(int); n < 6 {
			require.True(t, a.env.Send(c, n+1))
			sends++
		}
	}
	w.AddNode("a", func() Node { return &answerer{peer: peer, answer: check} })
	w.AddNode("b", func() Node { return &answerer{answer: check} })
	w.Run(Limits{Until: time.Second})
	require.Equal(t, 6, sends)
	return w.Fingerprint()
}

// A node that closed the connection of its call cannot send on it, and an
// Env of an incarnation that is gone sends nothing, even on that
// connection.
func TestAnswerAfterCloseOrFromAGoneIncarnation(t *testing.T) {
	require.Equal(t, answerAfterClose(t), answerAfterClose(t))
}

func answerAfterClose(t *testing.T) uint64 {
	w := NewWorld(Config{Seed: 1})
	var old *Env
	var results []bool
	w.AddNode("a", func() Node {
		return &answerer{peer: "b", answer: func(a *answerer, c ConnID, _ any) {
			if a.env.Incarnation() == 1 {
				old = a.env
				a.env.Send(c, 0)
				return
			}
			results = append(results, old.Send(c, 1), a.env.Send(c, 1))
			a.env.Close(c)
			results = append(results, a.env.Send(c, 2))
		}}
	})
	w.AddNode("b", func() Node {
		return &answerer{answer: func(a *answerer, c ConnID, msg any) { a.env.Send(c, msg) }}
	})
	w.Run(Limits{Until: 100 * time.Millisecond})
	require.NotNil(t, old)
	w.crash(w.nodes[0], false, "test")
	w.start(w.nodes[0])
	require.Nil(t, w.reply.env, "a crash forgets the answer")
	w.Run(Limits{Until: time.Second})
	require.Equal(t, []bool{false, true, false}, results)
	return w.Fingerprint()
}

type digestPtr struct{ n uint64 }

func (d *digestPtr) Digest() uint64 { return d.n }

type digestVal uint64

func (d digestVal) Digest() uint64 { return uint64(d) + 1<<40 }

// The cached answer to msg.(Digester) is the assertion's, whatever the
// order of types: pointers and values, Digesters or not, nil.
func TestDigesterCacheAnswersAsTheAssertion(t *testing.T) {
	msgs := []any{&digestPtr{1}, 7, nil, digestVal(3), &digestPtr{2}, "x", digestVal(4), digestVal(5), nil, &digestPtr{3}}
	rapid.Check(t, func(rt *rapid.T) {
		var c digester
		for _, i := range rapid.SliceOf(rapid.IntRange(0, len(msgs)-1)).Draw(rt, "msgs") {
			msg := msgs[i]
			dg, ok := msg.(Digester)
			require.Equal(rt, ok, c.of(msg))
			if ok {
				require.Equal(rt, dg.Digest(), c.digest(msg))
			}
		}
	})
}
