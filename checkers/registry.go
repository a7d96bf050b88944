package checkers

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Registry history: client events and system observations of a service
// registry run, stored in a History as instant ops (Call == Return) whose
// Input.Kind is the event kind and Input.Value the event as JSON.
const (
	RegPublish    = "reg-publish"     // a client published RegID=Data (Version) under DataID
	RegPublishAck = "reg-publish-ack" // the session acknowledged RegID at Version
	RegUnpublish  = "reg-unpublish"   // a client unpublished RegID
	RegSubscribe  = "reg-subscribe"   // a client subscribed RegID to DataID
	RegPush       = "reg-push"        // subscriber RegID received Version with Pubs
	RegConnect    = "reg-connect"     // the client connected to session Node
	RegDisconnect = "reg-disconnect"  // the client's connection to Node closed
	RegClientDead = "reg-client-dead" // the client process crashed (for good)
	RegSlots      = "reg-slots"       // data server Node (Inc) serves Slots at Epoch
	RegMeta       = "reg-meta"        // meta server Node (Inc): Term, Leader, applied Epoch
	RegMetaOp     = "reg-meta-op"     // a meta store operation from Call to T: Op "cas" (Expected -> Epoch, OK) or "read" (Epoch); Unknown: no outcome
	RegHeal       = "reg-heal"        // faults healed: the liveness phase starts
	RegEnd        = "reg-end"         // recording stopped
)

// RegEvent is one registry history event.
type RegEvent struct {
	Kind    string   `json:"kind"`
	T       int64    `json:"t"`
	Client  int      `json:"client"`
	DataID  string   `json:"data_id,omitempty"`
	RegID   string   `json:"reg_id,omitempty"`
	Data    string   `json:"data,omitempty"`
	Version uint64   `json:"version,omitempty"`
	Pubs    []string `json:"pubs,omitempty"`     // push: "regId=data", sorted
	PubVers []uint64 `json:"pub_vers,omitempty"` // push: each publisher's version
	Node    string   `json:"node,omitempty"`
	Inc     uint32   `json:"inc,omitempty"`
	Epoch   uint64   `json:"epoch,omitempty"`
	Term    uint64   `json:"term,omitempty"`
	Leader  bool     `json:"leader,omitempty"`
	Slots   []int    `json:"slots,omitempty"`
	// Meta store operations (RegMetaOp).
	Op       string `json:"op,omitempty"`
	Expected uint64 `json:"expected,omitempty"`
	Call     int64  `json:"call,omitempty"`
	OK       bool   `json:"ok,omitempty"`
	Unknown  bool   `json:"unknown,omitempty"`
}

// RegRecorder records registry events; History encodes them.
type RegRecorder struct{ Events []RegEvent }

// Record appends an event.
func (r *RegRecorder) Record(ev RegEvent) { r.Events = append(r.Events, ev) }

// History encodes the events as instant ops.
func (r *RegRecorder) History() History {
	h := History{Ops: make([]Op, 0, len(r.Events))}
	for i, ev := range r.Events {
		b, _ := json.Marshal(ev)
		h.Ops = append(h.Ops, Op{ID: i, Client: ev.Client, Key: ev.DataID, Input: Input{Kind: ev.Kind, Value: string(b)}, Call: ev.T, Return: ev.T})
	}
	return h
}

// DecodeRegistry reads the events back from a history.
func DecodeRegistry(h History) ([]RegEvent, error) {
	out := make([]RegEvent, 0, len(h.Ops))
	for _, op := range h.Ops {
		if !strings.HasPrefix(op.Input.Kind, "reg-") {
			return nil, fmt.Errorf("op %d: %q is not a registry event", op.ID, op.Input.Kind)
		}
		var ev RegEvent
		if err := json.Unmarshal([]byte(op.Input.Value), &ev); err != nil {
			return nil, fmt.Errorf("op %d: %v", op.ID, err)
		}
		out = append(out, ev)
	}
	return out, nil
}

// regState is what the checkers derive from the events.
type regState struct {
	evs     []RegEvent
	ids     []int // op id of each event
	dead    map[int]int64
	healAt  int64
	end     int64
	current map[int]map[string]RegEvent // client -> regId -> last publish (absent: unpublished)
	subs    map[int]map[string]RegEvent // client -> subscriber regId -> subscribe event
}

func regLoad(name string, h History) (*regState, Result, bool) {
	res := Result{Checker: name, Verdict: Unknown}
	evs, err := DecodeRegistry(h)
	if err != nil {
		res.Explanation = "not a registry history: " + err.Error()
		return nil, res, false
	}
	return loadEvents(evs), res, true
}

func loadEvents(evs []RegEvent) *regState {
	s := &regState{evs: evs, dead: map[int]int64{}, current: map[int]map[string]RegEvent{}, subs: map[int]map[string]RegEvent{}, healAt: -1}
	for i, ev := range evs {
		s.ids = append(s.ids, i)
		if ev.T > s.end {
			s.end = ev.T
		}
		switch ev.Kind {
		case RegClientDead:
			s.dead[ev.Client] = ev.T
		case RegHeal:
			s.healAt = ev.T
		case RegPublish:
			if s.current[ev.Client] == nil {
				s.current[ev.Client] = map[string]RegEvent{}
			}
			s.current[ev.Client][ev.RegID] = ev
		case RegUnpublish:
			delete(s.current[ev.Client], ev.RegID)
		case RegSubscribe:
			if s.subs[ev.Client] == nil {
				s.subs[ev.Client] = map[string]RegEvent{}
			}
			s.subs[ev.Client][ev.RegID] = ev
		}
	}
	return s
}

// expected is, per dataInfoId, the publishers of live clients.
func (s *regState) expected() map[string]map[string]RegEvent {
	out := map[string]map[string]RegEvent{}
	for _, c := range sortedInts(s.current) {
		if _, d := s.dead[c]; d {
			continue
		}
		for _, reg := range sortedStr(s.current[c]) {
			ev := s.current[c][reg]
			if out[ev.DataID] == nil {
				out[ev.DataID] = map[string]RegEvent{}
			}
			out[ev.DataID][reg] = ev
		}
	}
	return out
}

func sortedInts[V any](m map[int]V) []int {
	out := make([]int, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Ints(out)
	return out
}

func sortedStr[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func fail(res Result, what []string, ops []int) Result {
	res.Verdict = Fail
	res.Explanation = listSome(what, 4)
	sort.Ints(ops)
	res.Ops = ops
	return res
}

func pass(res Result, msg string) Result {
	res.Verdict = Pass
	res.Explanation = msg
	return res
}

// RegConvergence: at the end of the run (faults healed, a quiet period
// passed), every live client's subscriber last received exactly the
// publishers of live clients under its dataInfoId.
type RegConvergence struct{}

func (RegConvergence) Name() string { return "convergence" }

func (c RegConvergence) Check(h History, _ Options) Result {
	s, res, ok := regLoad(c.Name(), h)
	if !ok {
		return res
	}
	return c.check(s, res)
}

// RegConverged reports whether the events end converged (for a harness
// deciding when a run may stop).
func RegConverged(evs []RegEvent) bool {
	return RegConvergence{}.check(loadEvents(evs), Result{}).Verdict == Pass
}

func (c RegConvergence) check(s *regState, res Result) Result {
	exp := s.expected()
	last := map[string]int{} // "client/sub" -> event index of the last push
	for i, ev := range s.evs {
		if ev.Kind == RegPush {
			last[fmt.Sprintf("%d/%s", ev.Client, ev.RegID)] = i
		}
	}
	var bad []string
	var ops []int
	n := 0
	for _, cl := range sortedInts(s.subs) {
		if _, d := s.dead[cl]; d {
			continue
		}
		for _, reg := range sortedStr(s.subs[cl]) {
			n++
			sub := s.subs[cl][reg]
			want := map[string]bool{}
			for _, r := range sortedStr(exp[sub.DataID]) {
				want[r+"="+exp[sub.DataID][r].Data] = true
			}
			got := map[string]bool{}
			i, pushed := last[fmt.Sprintf("%d/%s", cl, reg)]
			if pushed {
				for _, p := range s.evs[i].Pubs {
					got[p] = true
				}
			}
			var missing, extra []string
			for _, k := range sortedStr(want) {
				if !got[k] {
					missing = append(missing, k)
				}
			}
			for _, k := range sortedStr(got) {
				if !want[k] {
					extra = append(extra, k)
				}
			}
			if len(missing)+len(extra) == 0 {
				continue
			}
			where := "received no push"
			if pushed {
				where = fmt.Sprintf("last received version %d at %v (op %d)", s.evs[i].Version, vt(s.evs[i].T), i)
				ops = append(ops, i)
			}
			bad = append(bad, fmt.Sprintf("subscriber %s of client %d on %s %s: missing %v, unexpected %v",
				reg, cl, sub.DataID, where, missing, extra))
		}
	}
	if len(bad) > 0 {
		return fail(res, append([]string{fmt.Sprintf("%d of %d live subscribers did not converge by the end of the run at %v", len(bad), n, vt(s.end))}, bad...), ops)
	}
	return pass(res, fmt.Sprintf("all %d live subscribers ended with exactly the live publishers", n))
}

// RegMonotonicPush: the versions a subscriber receives never go back.
type RegMonotonicPush struct{}

func (RegMonotonicPush) Name() string { return "monotonic-push" }

func (c RegMonotonicPush) Check(h History, _ Options) Result {
	s, res, ok := regLoad(c.Name(), h)
	if !ok {
		return res
	}
	last := map[string]int{}
	var bad []string
	var ops []int
	n := 0
	for i, ev := range s.evs {
		if ev.Kind != RegPush {
			continue
		}
		n++
		k := fmt.Sprintf("%d/%s", ev.Client, ev.RegID)
		if j, ok := last[k]; ok && s.evs[j].Version > ev.Version {
			bad = append(bad, fmt.Sprintf("subscriber %s of client %d received version %d at %v (op %d) after version %d at %v (op %d)",
				ev.RegID, ev.Client, ev.Version, vt(ev.T), i, s.evs[j].Version, vt(s.evs[j].T), j))
			ops = append(ops, i, j)
		}
		last[k] = i
	}
	if len(bad) > 0 {
		return fail(res, bad, ops)
	}
	return pass(res, fmt.Sprintf("push versions never went back in %d pushes", n))
}

// RegLastWriterWins: within the pushes a subscriber receives, a
// publisher's version never goes back, and a live client's final push
// holds each publisher's latest data (checked by convergence).
type RegLastWriterWins struct{}

func (RegLastWriterWins) Name() string { return "last-writer-wins" }

func (c RegLastWriterWins) Check(h History, _ Options) Result {
	s, res, ok := regLoad(c.Name(), h)
	if !ok {
		return res
	}
	type seen struct {
		v  uint64
		op int
	}
	last := map[string]seen{}
	var bad []string
	var ops []int
	for i, ev := range s.evs {
		if ev.Kind != RegPush {
			continue
		}
		for j, p := range ev.Pubs {
			reg, _, _ := strings.Cut(p, "=")
			k := fmt.Sprintf("%d/%s/%s", ev.Client, ev.RegID, reg)
			v := uint64(0)
			if j < len(ev.PubVers) {
				v = ev.PubVers[j]
			}
			if prev, ok := last[k]; ok && prev.v > v {
				bad = append(bad, fmt.Sprintf("subscriber %s of client %d saw publisher %s at version %d (op %d) after version %d (op %d): an older write overwrote a newer one",
					ev.RegID, ev.Client, reg, v, i, prev.v, prev.op))
				ops = append(ops, i, prev.op)
			}
			last[k] = seen{v, i}
		}
	}
	if len(bad) > 0 {
		return fail(res, bad, ops)
	}
	return pass(res, "no publisher's version went back in any subscriber's pushes")
}

// RegNoGhost: a dead client's publishers disappear from every push
// received more than Bound after it died.
type RegNoGhost struct{ Bound int64 }

func (RegNoGhost) Name() string { return "no-ghost" }

func (c RegNoGhost) Check(h History, _ Options) Result {
	s, res, ok := regLoad(c.Name(), h)
	if !ok {
		return res
	}
	owner := map[string]int{}
	for _, ev := range s.evs {
		if ev.Kind == RegPublish {
			owner[ev.RegID] = ev.Client
		}
	}
	var bad []string
	var ops []int
	reported := map[string]bool{}
	for i, ev := range s.evs {
		if ev.Kind != RegPush {
			continue
		}
		for _, p := range ev.Pubs {
			reg, _, _ := strings.Cut(p, "=")
			o, known := owner[reg]
			td, dead := s.dead[o]
			if !known || !dead || ev.T <= td+c.Bound || reported[reg] {
				continue
			}
			reported[reg] = true
			bad = append(bad, fmt.Sprintf("publisher %s of client %d, dead since %v, was still pushed to subscriber %s of client %d at %v (op %d), more than %v later",
				reg, o, vt(td), ev.RegID, ev.Client, vt(ev.T), i, vt(c.Bound)))
			ops = append(ops, i)
		}
	}
	if len(bad) > 0 {
		return fail(res, bad, ops)
	}
	return pass(res, fmt.Sprintf("%d dead clients' publishers were gone from pushes within %v", len(s.dead), vt(c.Bound)))
}

// RegNoLoss: once the faults healed and the registry had Settle to
// recover, a live client's acknowledged publisher, once pushed to a
// subscriber, is not missing from a later push to it, unless the client
// unpublished it or its connection closed between the acknowledgement and
// Grace after that push.
//
// Only the client's current publish counts as acknowledged (a late
// acknowledgement of a publish the client has since unpublished does not).
// Pushes before heal + Settle are not judged: during faults a registry
// legitimately drops the publishers of a session whose lease expired (it
// is partitioned from the meta leader or paused), and a push built before
// the heal, or before the session rejoined and the data servers re-synced
// from it, may still arrive just after the heal.
type RegNoLoss struct{ Grace, Settle int64 }

func (RegNoLoss) Name() string { return "no-loss" }

func (c RegNoLoss) Check(h History, _ Options) Result {
	s, res, ok := regLoad(c.Name(), h)
	if !ok {
		return res
	}
	if s.healAt < 0 {
		return pass(res, "no heal marker: nothing judged")
	}
	type ack struct {
		t      int64
		op     int
		client int
		data   string
		dataID string
	}
	acks := map[string]ack{}    // regId -> last ack
	unpub := map[string]int64{} // regId -> last unpublish
	discs := map[int][]int64{}  // client -> disconnect times
	seenIn := map[string]int{}  // "client/sub/reg" -> op of a push that contained it after its ack
	pubData := map[string]string{}
	pubVer := map[string]uint64{}
	pubDataID := map[string]string{}
	live := map[string]bool{} // regId -> the client's latest operation on it is a publish
	for i, ev := range s.evs {
		switch ev.Kind {
		case RegPublish:
			pubData[ev.RegID] = ev.Data
			pubVer[ev.RegID] = ev.Version
			pubDataID[ev.RegID] = ev.DataID
			live[ev.RegID] = true
		case RegPublishAck:
			// Only the acknowledgement of the client's current publish
			// counts: an acknowledgement that arrives after the client
			// unpublished (or re-published) is of a write it has already
			// superseded.
			if !live[ev.RegID] || ev.Version != pubVer[ev.RegID] {
				continue
			}
			acks[ev.RegID] = ack{t: ev.T, op: i, client: ev.Client, data: pubData[ev.RegID], dataID: pubDataID[ev.RegID]}
		case RegUnpublish:
			unpub[ev.RegID] = ev.T
			live[ev.RegID] = false
		case RegDisconnect:
			discs[ev.Client] = append(discs[ev.Client], ev.T)
		}
	}
	disconnected := func(cl int, from, to int64) bool {
		for _, t := range discs[cl] {
			if t >= from && t <= to {
				return true
			}
		}
		return false
	}
	var bad []string
	var ops []int
	for i, ev := range s.evs {
		if ev.Kind != RegPush {
			continue
		}
		has := map[string]bool{}
		for _, p := range ev.Pubs {
			reg, _, _ := strings.Cut(p, "=")
			has[reg] = true
			if a, ok := acks[reg]; ok && a.t <= ev.T {
				seenIn[fmt.Sprintf("%d/%s/%s", ev.Client, ev.RegID, reg)] = i
			}
		}
		if ev.T < s.healAt+c.Settle {
			continue
		}
		prefix := fmt.Sprintf("%d/%s/", ev.Client, ev.RegID)
		for _, k := range sortedStr(seenIn) {
			if !strings.HasPrefix(k, prefix) {
				continue
			}
			reg := strings.TrimPrefix(k, prefix)
			a := acks[reg]
			if has[reg] || a.t > ev.T || a.dataID != ev.DataID {
				continue
			}
			if _, d := s.dead[a.client]; d {
				continue
			}
			if u, ok := unpub[reg]; ok && u >= a.t {
				continue
			}
			if disconnected(a.client, a.t, ev.T+c.Grace) {
				continue
			}
			j := seenIn[k]
			delete(seenIn, k)
			bad = append(bad, fmt.Sprintf("publisher %s of live client %d (acknowledged at %v, op %d; pushed in op %d) was missing from the push of version %d to subscriber %s of client %d at %v (op %d)",
				reg, a.client, vt(a.t), a.op, j, ev.Version, ev.RegID, ev.Client, vt(ev.T), i))
			ops = append(ops, i, j, a.op)
		}
	}
	if len(bad) > 0 {
		return fail(res, bad, ops)
	}
	return pass(res, fmt.Sprintf("no live client's acknowledged publisher disappeared from a push after the heal + %v", vt(c.Settle)))
}

// RegSlotLeaders: at most one data server serves a slot at a given table
// epoch, and a data server process's epoch never goes back.
type RegSlotLeaders struct{}

func (RegSlotLeaders) Name() string { return "slot-leaders" }

func (c RegSlotLeaders) Check(h History, _ Options) Result {
	s, res, ok := regLoad(c.Name(), h)
	if !ok {
		return res
	}
	type lead struct {
		node string
		op   int
	}
	leaders := map[string]lead{}
	epochs := map[string]int{}
	var bad []string
	var ops []int
	for i, ev := range s.evs {
		if ev.Kind != RegSlots {
			continue
		}
		proc := fmt.Sprintf("%s#%d", ev.Node, ev.Inc)
		if j, ok := epochs[proc]; ok && s.evs[j].Epoch > ev.Epoch {
			bad = append(bad, fmt.Sprintf("%s went back from epoch %d (op %d) to %d (op %d)", proc, s.evs[j].Epoch, j, ev.Epoch, i))
			ops = append(ops, i, j)
		}
		epochs[proc] = i
		for _, sl := range ev.Slots {
			k := fmt.Sprintf("%d/%d", ev.Epoch, sl)
			if l, ok := leaders[k]; ok && l.node != ev.Node {
				bad = append(bad, fmt.Sprintf("slot %d had two leaders at epoch %d: %s (op %d) and %s (op %d)", sl, ev.Epoch, l.node, l.op, ev.Node, i))
				ops = append(ops, i, l.op)
				continue
			}
			leaders[k] = lead{ev.Node, i}
		}
	}
	if len(bad) > 0 {
		return fail(res, bad, ops)
	}
	return pass(res, fmt.Sprintf("one leader per slot per epoch across %d (slot, epoch) pairs; epochs never went back", len(leaders)))
}

// RegMetaLeader: at most one meta leader per raft term, and a meta
// process's applied table epoch never goes back.
type RegMetaLeader struct{}

func (RegMetaLeader) Name() string { return "meta-leader" }

func (c RegMetaLeader) Check(h History, _ Options) Result {
	s, res, ok := regLoad(c.Name(), h)
	if !ok {
		return res
	}
	terms := map[uint64]int{}
	epochs := map[string]int{}
	var bad []string
	var ops []int
	for i, ev := range s.evs {
		if ev.Kind != RegMeta {
			continue
		}
		proc := fmt.Sprintf("%s#%d", ev.Node, ev.Inc)
		if j, ok := epochs[proc]; ok && s.evs[j].Epoch > ev.Epoch {
			bad = append(bad, fmt.Sprintf("%s's table went back from epoch %d (op %d) to %d (op %d)", proc, s.evs[j].Epoch, j, ev.Epoch, i))
			ops = append(ops, i, j)
		}
		epochs[proc] = i
		if !ev.Leader {
			continue
		}
		if j, ok := terms[ev.Term]; ok && s.evs[j].Node != ev.Node {
			bad = append(bad, fmt.Sprintf("two meta leaders in term %d: %s (op %d) and %s (op %d)", ev.Term, s.evs[j].Node, j, ev.Node, i))
			ops = append(ops, i, j)
		}
		terms[ev.Term] = i
	}
	if len(bad) > 0 {
		return fail(res, bad, ops)
	}
	return pass(res, fmt.Sprintf("one meta leader in each of %d terms", len(terms)))
}

// RegPushLiveness: a live client's publisher acknowledged at t reaches
// every live subscriber of its dataInfoId (subscribed at s) by
// max(t, s, heal) + Bound.
type RegPushLiveness struct{ Bound int64 }

func (RegPushLiveness) Name() string { return "push-liveness" }

func (c RegPushLiveness) Check(h History, _ Options) Result {
	s, res, ok := regLoad(c.Name(), h)
	if !ok {
		return res
	}
	exp := s.expected()
	acked := map[string]int{}
	for i, ev := range s.evs {
		if ev.Kind == RegPublishAck {
			if cur, ok := s.current[ev.Client][ev.RegID]; ok && cur.Version == ev.Version {
				acked[ev.RegID] = i
			}
		}
	}
	var bad []string
	var ops []int
	n := 0
	for _, cl := range sortedInts(s.subs) {
		if _, d := s.dead[cl]; d {
			continue
		}
		for _, reg := range sortedStr(s.subs[cl]) {
			sub := s.subs[cl][reg]
			for _, pr := range sortedStr(exp[sub.DataID]) {
				ai, ok := acked[pr]
				if !ok {
					continue
				}
				n++
				want := pr + "=" + exp[sub.DataID][pr].Data
				deadline := max(s.evs[ai].T, sub.T, s.healAt) + c.Bound
				if deadline > s.end {
					continue // the run ended too early to judge
				}
				got := false
				for i := len(s.evs) - 1; i >= 0; i-- {
					ev := s.evs[i]
					if ev.Kind == RegPush && ev.Client == cl && ev.RegID == reg && ev.T <= deadline {
						for _, p := range ev.Pubs {
							if p == want {
								got = true
							}
						}
						break
					}
				}
				if !got {
					bad = append(bad, fmt.Sprintf("publisher %s (acknowledged at %v, op %d) had not reached subscriber %s of client %d by %v",
						want, vt(s.evs[ai].T), ai, reg, cl, vt(deadline)))
					ops = append(ops, ai)
				}
			}
		}
	}
	if len(bad) > 0 {
		return fail(res, bad, ops)
	}
	return pass(res, fmt.Sprintf("all %d (publisher, subscriber) pairs were pushed within %v", n, vt(c.Bound)))
}

// RegMetaStore checks that the meta store's operations (RegMetaOp: the
// meta leaders' table proposals, compare-and-set on the table epoch, and
// linearizable reads of the epoch by a probe client) are linearizable, with
// porcupine and the cas-register model; the epoch starts at 0.
type RegMetaStore struct{}

func (RegMetaStore) Name() string { return "meta-store" }

func (c RegMetaStore) Check(h History, opts Options) Result {
	s, res, ok := regLoad(c.Name(), h)
	if !ok {
		return res
	}
	init := "0"
	sub := History{Model: "cas-register", Init: &init}
	var back []int // sub-history op -> registry event
	for i, ev := range s.evs {
		if ev.Kind != RegMetaOp {
			continue
		}
		op := Op{ID: len(sub.Ops), Client: ev.Client, Key: "meta/epoch", Call: ev.Call, Return: ev.T, Unknown: ev.Unknown}
		switch ev.Op {
		case "cas":
			op.Input = Input{Kind: KindCAS, Expected: fmt.Sprint(ev.Expected), Value: fmt.Sprint(ev.Expected + 1)}
			op.Output = Output{OK: ev.OK}
		case "read":
			op.Input = Input{Kind: KindRead}
			op.Output = Output{Value: fmt.Sprint(ev.Epoch), Found: true}
		default:
			continue
		}
		sub.Ops = append(sub.Ops, op)
		back = append(back, i)
	}
	if len(sub.Ops) == 0 {
		return pass(res, "no meta store operation recorded")
	}
	r := Linearizable{}.Check(sub, opts)
	r.Checker = c.Name()
	for i, id := range r.Ops {
		if id >= 0 && id < len(back) {
			r.Ops[i] = back[id]
		}
	}
	if r.Verdict == Pass {
		r.Explanation = fmt.Sprintf("%d meta store operations (table compare-and-sets and epoch reads) are linearizable", len(sub.Ops))
	} else {
		r.Explanation = "meta store: " + r.Explanation
	}
	return r
}

// RegistryCheckers are the registry checkers the scenarios run.
func RegistryCheckers(ghostBound, pushBound int64) []Checker {
	return []Checker{RegConvergence{}, RegMonotonicPush{}, RegLastWriterWins{}, RegNoGhost{Bound: ghostBound},
		RegNoLoss{Grace: int64(2 * time.Second), Settle: int64(3 * time.Second)}, RegSlotLeaders{}, RegMetaLeader{}, RegMetaStore{}, RegPushLiveness{Bound: pushBound}}
}
