package registry

// The meta servers' replicated state machine: the slot table, replaced only
// by compare-and-set on its epoch.

import (
	"encoding/json"
)

// metaSM is the replicated state: the slot table.
type metaSM struct{ table Table }

type metaCmd struct {
	Op    string `json:"op"` // "noop" or "table"
	Table *Table `json:"table,omitempty"`
}

func (m *metaSM) Apply(_ uint64, cmd []byte) []byte {
	var c metaCmd
	if json.Unmarshal(cmd, &c) != nil {
		return []byte("bad")
	}
	if c.Op == "table" && c.Table != nil {
		if c.Table.Epoch != m.table.Epoch+1 {
			return []byte("stale")
		}
		m.table = *c.Table
	}
	return []byte("ok")
}

func (m *metaSM) Query([]byte) []byte {
	b, _ := json.Marshal(m.table)
	return b
}

func (m *metaSM) Snapshot() []byte {
	b, _ := json.Marshal(m.table)
	return b
}

func (m *metaSM) Restore(s []byte) error {
	m.table = Table{}
	if len(s) == 0 {
		return nil
	}
	return json.Unmarshal(s, &m.table)
}
