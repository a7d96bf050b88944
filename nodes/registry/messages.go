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
	Refused                     // stored but not versioned (nextId threw, data_version.go): the session retries
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
	case Refused:
		return "refused"
	}
	return fmt.Sprintf("status(%d)", uint8(s))
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// SlotOf is the slot of a dataInfoId, as SOFARegistry's Crc32cSlotFunction
// computes it: Math.abs of the crc32c read as a Java int, masked by
// slots-1 (slots a power of two). Java's Math.abs(Integer.MIN_VALUE) stays
// negative; Go's int32 negation wraps the same way, and the mask then
// keeps 0. A slot count that is not a power of two (never in production)
// takes the same value modulo slots.
func SlotOf(dataID string, slots int) int {
	if dataID != "" && dataID[0] == '@' {
		_, dataID, _ = splitRemote(dataID) // another data centre's datum lives in its dataInfoId's slot
	}
	return slotOfCRC(crc32.Checksum([]byte(dataID), castagnoli), slots)
}

func slotOfCRC(crc uint32, slots int) int {
	v := int32(crc)
	if v < 0 {
		v = -v
	}
	if slots&(slots-1) == 0 {
		return int(uint32(v) & uint32(slots-1))
	}
	return int(uint32(v) % uint32(slots))
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
	Conn    uint64 `json:"conn"`    // the client's connection sequence number: a re-registration through a newer connection wins at equal versions
	Client  string `json:"client"`  // client process
	Session Proc   `json:"session"` // owning session process
}

// older reports whether p is an older registration than q: a lower
// version, or the same version registered through an older connection of
// the client (a session that stalled may forward the old connection's
// registration after the client re-registered elsewhere).
func (p *Pub) older(q *Pub) bool { return regOlder(p.Version, p.Conn, q.Version, q.Conn) }

// regOlder is Pub.older on the (version, connection) of two registrations.
func regOlder(pv, pc, qv, qc uint64) bool {
	// A restarted client process (its incarnation is Conn's high half)
	// numbers its versions from 1 again: its registrations are newer.
	if pi, qi := pc>>32, qc>>32; pi != qi {
		return pi < qi
	}
	return pv < qv || (pv == qv && pc < qc)
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
	// digest is Digest() when digested, computed once by the data server
	// that built the datum (perf_view.go): every session that fetches it
	// sends it back with its next fetch.
	digest   uint64
	digested bool
}

// Digest is an FNV-1a hash of the datum's publishers: two datums with
// the same version and different digests collided.
func (d *Datum) Digest() uint64 {
	if d.digested {
		return d.digest
	}
	return datumDigest(d)
}

func sortPubData(p []PubData) {
	sort.Slice(p, func(i, j int) bool { return p[i].RegID < p[j].RegID })
}

// Messages. All are sent by pointer and never mutated after sending.
type (
	// Heartbeat: data/session -> the meta leader (member_renew.go).
	Heartbeat struct {
		Role  string // "data" or "session"
		Proc  Proc
		Epoch uint64
		// Table: the member's table under election=db, from which a new
		// meta leader re-learns the slot table (it is not persisted).
		Table *Table
	}
	// HeartbeatResp: meta -> member. Leader: the meta acts as leader (the
	// heartbeat renewed the lease); MetaLeader and LeaderEpoch name the
	// leader it knows of. Table set when newer than the member's.
	HeartbeatResp struct {
		Leader      bool
		MetaLeader  string
		LeaderEpoch int64
		Table       *Table
	}
	// TablePush: meta leader -> member, after a new table applied.
	TablePush struct{ Table *Table }

	// DataWrite: session -> data slot leader. Kind: "pub", "unpub", "clientoff", "sync".
	DataWrite struct {
		ReqID   uint64
		Kind    string
		Slot    int
		Epoch   uint64
		Pub     Pub      // pub: the publisher; unpub: DataID, RegID, Version, Session
		Pubs    []Pub    // sync: every publisher the session holds in Slot
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
		Digest uint64 // the digest of the cached datum: the same version with other content is bumped past too
	}
	GetDatumResp struct {
		ReqID  uint64
		Status Status
		Datum  *Datum
	}
	// GetVersions: session -> a data server, once per version scan: the
	// session's interests in the slots that server leads in its table
	// (SOFARegistry's GetDataVersionRequest, which goes once per slot).
	GetVersions struct {
		Epoch   uint64
		Session Proc
		Slots   []SlotInterests
	}
	// SlotInterests: a slot's dataInfoIds with what the session holds of
	// each, as a GetDatum carries it (Have, Digest).
	SlotInterests struct {
		Slot    int
		IDs     []string
		Have    []uint64
		Digests []uint64
	}
	// GetVersionsResp: the versions that differ from what the session
	// holds, in the slots served (DatumVersions).
	GetVersionsResp struct {
		IDs      []string
		Versions []uint64
	}
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
	ClientPing       struct{}
	ClientPong       struct{}
	ClientPublishAck struct {
		RegID   string
		Version uint64
	}
	ClientSubscribe struct {
		DataID string
		RegID  string
		Last   uint64 // the version last received, so a new session does not push an older one
		Conn   uint64 // the client's connection sequence number: an older connection's subscription never replaces a newer one's
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
	Pubs    map[string]pubRec
	Tombs   map[string]uint64
	Gone    map[string]pubRec
}

// Ops controls and provide data (provide.go, ops_*.go): dynamic config an
// operator writes, and the requests of the ops console.
type (
	// ProvideWrite: ops console -> every meta server: store a value (as the
	// real console writes the provide_data table of the database).
	ProvideWrite struct {
		ReqID uint64
		Data  ProvideData
	}
	// ProvideWriteAck: meta -> console, once the value is durable.
	ProvideWriteAck struct{ ReqID uint64 }
	// ProvideFetch: session or data server -> a meta server, every
	// ProvideInterval: the values newer than the versions in Have (per key:
	// a meta that missed a write must not hide it behind a later one).
	ProvideFetch struct{ Have map[string]uint64 }
	// ProvideAnswer: meta -> member, the values newer than asked for.
	ProvideAnswer struct{ Data []ProvideData }
	// ClientOffZone: ops console -> each session server of one zone:
	// client-off (Open false) or client-open the addresses there, in memory
	// only (the real zone API is not persisted).
	ClientOffZone struct {
		Addrs []string
		Open  bool
	}
	// ServerQuit: ops console -> a data server: leave the slot table
	// gracefully (Join false), or come back.
	ServerQuit struct{ Join bool }
	// Forbid: a quitting data server -> every meta server, in place of its
	// heartbeat: take me out of the table (RegistryForbiddenServerRequest).
	Forbid struct {
		Proc  Proc
		Epoch uint64
	}
	// MetaQuitElection: ops console -> a meta server: stop leading.
	MetaQuitElection struct{}
)

// App-level discovery (app.go).
type (
	// ClientRevision: client -> session: store an application revision,
	// then apply Pub, the app's publisher naming it (the real client
	// registers the revision and publishes once it is acknowledged).
	ClientRevision struct {
		Rev AppRevision
		Pub Pub
	}
	// ProvideGet: session -> meta server: one value, now (a revision a
	// push needs); answered with a ProvideAnswer, or ProvideMissing.
	ProvideGet     struct{ Key string }
	ProvideMissing struct{ Key string }
)

// Session-to-data periodic sync (owned by the session/data side; issue 14).
type (
	// SlotDigest: session -> a data server, every SessionSyncInterval: for
	// each slot that server leads in the session's table, a digest of the
	// session's publishers there. It also renews the session's data-side
	// lease.
	SlotDigest struct {
		ReqID   uint64
		Epoch   uint64
		Session Proc
		Slots   []int
		Digests []uint64
	}
	// SlotDigestResp: data -> session: the slots it serves whose
	// publishers of the session differ from the digest; the session
	// re-sends those slots' publishers (a sync write).
	SlotDigestResp struct {
		ReqID uint64
		Diff  []int
	}
	// FollowerDigest: data follower -> the slot's leader, every
	// FollowerSyncInterval: the versions of the datums it holds in the
	// slot; the leader answers with a Replicate of those that differ.
	FollowerDigest struct {
		Epoch    uint64
		Slot     int
		Versions map[string]uint64
	}
)
