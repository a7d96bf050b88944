package checkers

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRecorder(t *testing.T) {
	r := Recorder{Model: "kv", Init: strp("")}
	a := r.Invoke(10, 0, "k", Input{Kind: KindPut, Value: "1"})
	b := r.Invoke(15, 1, "k", Input{Kind: KindGet})
	c := r.Invoke(17, 2, "k", Input{Kind: KindAppend, Value: "x"})
	d := r.Invoke(18, 3, "j", Input{Kind: KindGet})
	r.Complete(20, a, Output{})
	r.Complete(30, b, Output{Value: "1", Found: true})
	r.Unknown(40, c)

	h := r.History()
	assert.Equal(t, History{Model: "kv", Init: strp(""), Ops: []Op{
		{ID: 0, Client: 0, Key: "k", Input: Input{Kind: KindPut, Value: "1"}, Call: 10, Return: 20},
		{ID: 1, Client: 1, Key: "k", Input: Input{Kind: KindGet}, Output: Output{Value: "1", Found: true}, Call: 15, Return: 30},
		{ID: 2, Client: 2, Key: "k", Input: Input{Kind: KindAppend, Value: "x"}, Call: 17, Return: 40, Unknown: true},
		{ID: 3, Client: 3, Key: "j", Input: Input{Kind: KindGet}, Call: 18, Unknown: true},
	}}, h)
	require.NoError(t, h.Validate())
	assert.Equal(t, Pass, Linearizable{}.Check(h, Options{}).Verdict)

	// The history is a copy; the pending op can still complete.
	*h.Init = "changed"
	h.Ops[0].Key = "changed"
	r.Complete(50, d, Output{Found: true})
	h2 := r.History()
	assert.Equal(t, "", *h2.Init)
	assert.Equal(t, "k", h2.Ops[0].Key)
	assert.False(t, h2.Ops[3].Unknown)

	assert.PanicsWithValue(t, "checkers: op 0 already finished", func() { r.Complete(60, a, Output{}) })
	assert.PanicsWithValue(t, "checkers: no op 9 recorded", func() { r.Unknown(60, 9) })
	e := r.Invoke(70, 0, "k", Input{Kind: KindGet})
	assert.PanicsWithValue(t, "checkers: op 4 completed at 60 before its call at 70", func() { r.Complete(60, e, Output{}) })

	var empty Recorder
	assert.Equal(t, History{}, empty.History())
}
