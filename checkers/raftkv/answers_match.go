package raftkv

import (
	"fmt"

	"github.com/sofasim/sofasim/checkers"
)

// AnswersMatch: a client library returns, as a request's answer, the
// response to that request and to no other. An answer to an earlier
// request of the same session, arriving after its caller gave up on it,
// taken for the request in flight, returns another operation's result; a
// checker of values sees it only when the two results differ.
type AnswersMatch struct{}

func (AnswersMatch) Name() string { return "answers-match" }

func (c AnswersMatch) Check(p *Protocol, _ checkers.Options) checkers.Result {
	var bad []string
	n := 0
	for _, e := range p.Events {
		if e.Kind != Answered {
			continue
		}
		n++
		if e.Seq != e.Index {
			bad = append(bad, fmt.Sprintf("request %d of session %d was answered with the response to request %d: %s", e.Index, e.Session, e.Seq, e))
		}
	}
	if len(bad) > 0 {
		return fail(c.Name(), bad)
	}
	return pass(c.Name(), fmt.Sprintf("%d answers, each the response to its own request", n))
}
