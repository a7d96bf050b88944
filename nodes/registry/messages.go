package registry

import (
	"fmt"
	"hash/crc32"
	"sort"
)

// Status is a data server's slot-access verdict on a request.
type Status uint8

const (
	Accept    Status = iota + 1 // served
	Migrating                   // this server leads the slot but is still syncing from the session servers
	Moved                       // this server does not lead the slot
	MisMatch                    // the request carries a newer slot table than this server's
)

func (s Status) String() string {
	switch s {
	case Accept:
		return "accept"
	case Migrating:
		return "migrating"
	case Moved:
		return "moved"
	case MisMatch:
		return "mismatch"
	}
	return fmt.Sprintf("status(%d)", uint8(s))
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// SlotOf is the slot of a dataInfoId.
func SlotOf(dataID string, slots int) int {
	return int(crc32.Checksum([]byte(dataID), castagnoli) % uint32(slots))
}

// Proc names one process of a server: node name and incarnation.
type Proc struct {
	ID  string `json:"id"`
	Inc uint32 `json:"inc"`
}

func (p Proc) String() string { return fmt.Sprintf("%s#%d", p.ID, p.Inc) }

// Slot is one slot's replicas.
type Slot struct {
	Leader   Proc `json:"leader"`
	Follower Proc `json:"follower"`
}

// Table is the slot table with the membership it was built from.
type Table struct {
	Epoch    uint64 `json:"epoch"`
	Slots    []Slot `json:"slots"`
	Data     []Proc `json:"data"`
	Sessions []Proc `json:"sessions"`
}

func (t *Table) hasSession(p Proc) bool {
	for _, s := range t.Sessions {
		if s == p {
			return true
		}
	}
	return false
}

// Pub is one publisher as servers store it.
type Pub struct {
	DataID  string `json:"data_id"`
	RegID   string `json:"reg_id"`
	Data    string `json:"data"`
	Version uint64 `json:"version"` // the client's per-registerId version
	Client  string `json:"client"`  // client process
	Session Proc   `json:"session"` // owning session process
}

// PubData is a publisher as subscribers see it.
type PubData struct {
	RegID   string
	Data    string
	Version uint64
}

// Datum is the publishers of one dataInfoId with its version.
type Datum struct {
	DataID  string
	Version uint64
	Pubs    []PubData // sorted by RegID
}

func sortPubData(p []PubData) {
	sort.Slice(p, func(i, j int) bool { return p[i].RegID < p[j].RegID })
}

// Messages. All are sent by pointer and never mutated after sending.
type (
	// Heartbeat: data/session -> every meta server.
	Heartbeat struct {
		Role  string // "data" or "session"
		Proc  Proc
		Epoch uint64
	}
	// HeartbeatResp: meta leader -> member; Table set when newer than the member's.
	HeartbeatResp struct {
		Leader bool
		Table  *Table
	}
	// TablePush: meta leader -> member, after a new table applied.
	TablePush struct{ Table *Table }

	// DataWrite: session -> data slot leader. Kind: "pub", "unpub", "clientoff".
	DataWrite struct {
		ReqID   uint64
		Kind    string
		Slot    int
		Epoch   uint64
		Pub     Pub      // pub: the publisher; unpub: DataID, RegID, Version, Session
		RegIDs  []string // clientoff: registerIds of the client, all in Slot
		DataIDs []string // clientoff: their dataInfoIds
		Client  string   // clientoff: the client process
		Session Proc
	}
	DataWriteResp struct {
		ReqID  uint64
		Status Status
	}
	// GetDatum: session -> data slot leader.
	GetDatum struct {
		ReqID  uint64
		DataID string
		Epoch  uint64
		Have   uint64 // the version the session has cached: a lower one from the leader is bumped past it
	}
	GetDatumResp struct {
		ReqID  uint64
		Status Status
		Datum  *Datum
	}
	// DatumChanged: data slot leader -> every session server.
	DatumChanged struct{ Datum *Datum }
	// Replicate: data slot leader -> follower, a batch of datums.
	Replicate struct {
		Epoch  uint64
		Datums []*replicaDatum
	}
	// MigrateReq: new slot leader -> every session server.
	MigrateReq struct {
		Epoch uint64
		Slots []int
		Total int
	}
	// MigrateResp: session -> new slot leader: its publishers in the slots
	// and the versions of the datums it has cached there.
	MigrateResp struct {
		Epoch    uint64
		Session  Proc
		Slots    []int
		Pubs     []Pub
		Versions map[string]uint64
	}

	// Client <-> session.
	ClientHello   struct{ Client string }
	ClientPublish struct {
		Pub   Pub
		Unpub bool
	}
	ClientPublishAck struct {
		RegID   string
		Version uint64
	}
	ClientSubscribe struct {
		DataID string
		RegID  string
		Last   uint64 // the version last received, so a new session does not push an older one
	}
	Push struct {
		RegID   string // the subscriber
		Datum   *Datum
		Attempt uint64
	}
	PushAck struct {
		RegID   string
		Version uint64
		Attempt uint64
	}
)

type replicaDatum struct {
	DataID  string
	Version uint64
	Pubs    map[string]Pub
	Tombs   map[string]uint64
}
