package raftkv

import "fmt"

// unsettled says why the cluster has not settled, or "" when it has: the
// client has nothing outstanding, one leader, and every running member of
// its configuration follows it and has applied everything it committed.
func (e *interactionEnv) unsettled() string {
	if e.World.Up("client") && e.client.c.Busy() {
		return "the client waits for an answer"
	}
	l := e.leader()
	if l == nil {
		return "no leader"
	}
	ls := l.Status()
	for _, id := range ls.Members {
		s := e.server(id)
		if s == nil {
			continue
		}
		st := s.Status()
		if st.Lead != ls.ID || st.Term != ls.Term {
			return fmt.Sprintf("%s follows %q in term %d", id, st.Lead, st.Term)
		}
		if st.Applied < ls.Commit {
			return fmt.Sprintf("%s applied %d of %d", id, st.Applied, ls.Commit)
		}
	}
	return ""
}
