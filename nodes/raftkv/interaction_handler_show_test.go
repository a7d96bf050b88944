package raftkv

import (
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/cockroachdb/datadriven"
)

// handleStatus prints each server's view (all servers, or the named ones).
func (e *interactionEnv) handleStatus(_ *testing.T, d *datadriven.TestData) error {
	ids, err := e.NodesArg(d)
	if err != nil {
		return err
	}
	if len(ids) == 0 {
		ids = e.cfg.Members()
	}
	for _, id := range ids {
		s := e.server(id)
		if s == nil {
			e.Printf("%s down\n", id)
			continue
		}
		st := s.Status()
		e.Printf("%s %s term %d lead %q commit %d applied %d snapshot %d log [%d, %d] members %v\n",
			id, st.Role, st.Term, st.Lead, st.Commit, st.Applied, st.SnapshotIndex, st.FirstIndex, st.LastIndex, st.Members)
	}
	return nil
}

// handleKV prints a server's key-value state: kv s1.
func (e *interactionEnv) handleKV(t *testing.T, d *datadriven.TestData) error {
	ids, err := e.NodesArg(d)
	if err != nil {
		return err
	}
	if len(ids) != 1 {
		d.Fatalf(t, "kv <server>")
	}
	s := e.server(ids[0])
	if s == nil {
		return fmt.Errorf("%s is down", ids[0])
	}
	kv := s.StateMachine().(*KV)
	for _, k := range slices.Sorted(maps.Keys(kv.data)) {
		e.Printf("%s=%q\n", k, kv.data[k])
	}
	if kv.Len() == 0 {
		e.Printf("empty\n")
	}
	return nil
}
