package raftkv

import (
	"testing"

	"github.com/cockroachdb/datadriven"
)

// handlePropose runs a key-value op through the client: propose put k v,
// propose get k, propose append k v, propose delete k. The result is
// printed when it arrives (run-for or stabilize).
func (e *interactionEnv) handlePropose(t *testing.T, d *datadriven.TestData) error {
	if len(d.CmdArgs) < 2 {
		d.Fatalf(t, "propose <op> <key> [value]")
	}
	kinds := map[string]OpKind{"get": OpGet, "put": OpPut, "delete": OpDelete, "append": OpAppend}
	kind, ok := kinds[d.CmdArgs[0].Key]
	if !ok {
		d.Fatalf(t, "propose: unknown op %q", d.CmdArgs[0].Key)
	}
	op := Op{Kind: kind, Key: d.CmdArgs[1].Key}
	if len(d.CmdArgs) > 2 {
		op.Value = d.CmdArgs[2].Key
	}
	e.RunNow(func() {
		e.client.c.Do(op, func(r Result) { e.Logf("client %s: %s", op, r) })
	})
	e.Printf("client proposes %s\n", op)
	return nil
}

// handleAdmin runs a leader transfer ("campaign s2": the leader hands
// leadership to s2) or a membership change through the client.
func (e *interactionEnv) handleAdmin(t *testing.T, d *datadriven.TestData) error {
	if len(d.CmdArgs) != 1 {
		d.Fatalf(t, "%s <server>", d.Cmd)
	}
	id, err := e.Resolve(d.CmdArgs[0].Key)
	if err != nil {
		return err
	}
	cmd := d.Cmd // d is reused by the next command before the answer comes
	done := func(err error) {
		res := "ok"
		if err != nil {
			res = err.Error()
		}
		e.Logf("client %s %s: %s", cmd, id, res)
	}
	e.RunNow(func() {
		switch cmd {
		case "campaign":
			e.client.c.TransferLeader(id, done)
		case "add-member":
			e.client.c.AddMember(id, done)
		case "remove-member":
			e.client.c.RemoveMember(id, done)
		}
	})
	e.Printf("client asks %s %s\n", d.Cmd, id)
	return nil
}
