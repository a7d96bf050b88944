package registry

// Provide data: dynamic configuration as SOFARegistry keeps it (the
// provide_data table). The ops console writes a value to every meta server,
// each keeps it on its disk, and session and data servers poll a meta
// server for newer versions, so a switch reaches every server within about
// ProvideInterval and survives meta crashes and leader changes.

import (
	"encoding/json"
	"slices"

	"github.com/sofasim/sofasim/sim"
)

// ProvideData is one dynamic configuration value. Versions are assigned
// by the writer and only grow per key.
type ProvideData struct {
	Key     string   `json:"key"`
	Values  []string `json:"values,omitempty"`
	Version uint64   `json:"version"`
}

// Provide data keys: the ops switches under SOFARegistry's names
// (ValueConstants: a dataId in instance 9600 of group CONFIG), and
// ConfigKey for watched config.
const (
	ProvideStopPush       = "session.stop.push.data.switch" + provideSuffix // Values ["on"]: sessions push nothing (but to gray addresses)
	ProvideGrayPush       = "session.push.switch.gray.open" + provideSuffix // client addresses still pushed while push is stopped
	ProvideClientOff      = "registry.client.off.list" + provideSuffix      // client addresses switched off on every session server
	ProvideBlackIP        = "session.blacklist.data" + provideSuffix        // client addresses whose publishes are refused
	ProvideBlackDataID    = "session.dataid.blacklist" + provideSuffix      // dataInfoIds whose publishers are refused and removed
	ProvideCircuitBreaker = "registry.circuit.breaker" + provideSuffix      // BreakerAddressSwitch, and addresses whose pushes stop
	provideSuffix         = "#@#9600#@#CONFIG"
)

// BreakerAddressSwitch, among ProvideCircuitBreaker's values, turns the
// per-address circuit breaker on (CircuitBreakerData.addressSwitch); the
// other values are the client addresses whose pushes it stops
// (CircuitBreakerData.address).
const BreakerAddressSwitch = "addressSwitch"

// ConfigKey is the provide data key of a dataInfoId's config, which
// watchers (config subscribers) receive.
func ConfigKey(dataID string) string { return "config/" + dataID }

func (p *ProvideData) on() bool { return len(p.Values) > 0 }

// provideStore is a meta server's copy of the provide data.
type provideStore struct {
	env  *sim.Env
	data map[string]ProvideData
}

const provideFile = "provide.json"

// load reads the durable copy; a torn or corrupt file reads as empty (the
// console writes again until every meta server acknowledged).
func (p *provideStore) load(env *sim.Env) {
	p.env, p.data = env, map[string]ProvideData{}
	if b, err := env.Disk().ReadFile(provideFile); err == nil {
		var all []ProvideData
		if json.Unmarshal(b, &all) == nil {
			for _, d := range all {
				p.data[d.Key] = d
			}
		}
	}
}

// put stores a newer value durably; it reports whether the value is
// durable (an older version than the one held is durable already).
func (p *provideStore) put(d ProvideData) bool {
	if cur, ok := p.data[d.Key]; ok && cur.Version >= d.Version {
		return true
	}
	old, had := p.data[d.Key]
	p.data[d.Key] = d
	if !p.persist() {
		if had {
			p.data[d.Key] = old
		} else {
			delete(p.data, d.Key)
		}
		return false
	}
	return true
}

// persist writes every value to a new file and renames it over the old one.
func (p *provideStore) persist() bool {
	var all []ProvideData
	for _, k := range sortedKeys(p.data) {
		all = append(all, p.data[k])
	}
	b, _ := json.Marshal(all)
	disk, tmp := p.env.Disk(), provideFile+".tmp"
	if disk.Truncate(tmp, 0) != nil || disk.WriteAt(tmp, 0, b) != nil || disk.Sync(tmp) != nil {
		return false
	}
	return disk.Rename(tmp, provideFile) == nil
}

// newer lists the values newer than have, by key.
func (p *provideStore) newer(have map[string]uint64) []ProvideData {
	var out []ProvideData
	for _, k := range sortedKeys(p.data) {
		if d := p.data[k]; d.Version > have[k] {
			out = append(out, d)
		}
	}
	return out
}

// get is the value of key (zero if none).
func (p *provideStore) get(key string) ProvideData { return p.data[key] }

// provideView is a member's copy, polled from the meta servers one after
// another (a crashed meta server only delays a switch).
type provideView struct {
	data     map[string]ProvideData
	next     int
	answered bool // a meta has answered since the start
}

type provideTick struct{}

func (v *provideView) start(env *sim.Env, cfg Config) {
	v.data = map[string]ProvideData{}
	env.SetTimer(cfg.Ops.ProvideInterval, provideTick{})
}

// poll asks the next meta server for newer values.
func (v *provideView) poll(env *sim.Env, cfg Config, p *peers) {
	env.SetTimer(cfg.Ops.ProvideInterval, provideTick{})
	if len(cfg.Metas) == 0 {
		return
	}
	have := map[string]uint64{}
	for _, k := range sortedKeys(v.data) {
		have[k] = v.data[k].Version
	}
	p.send(cfg.Metas[v.next%len(cfg.Metas)], &ProvideFetch{Have: have})
	v.next++
}

// take keeps the newer values and returns the keys that changed.
func (v *provideView) take(a *ProvideAnswer) []string {
	v.answered = true
	var changed []string
	for _, d := range a.Data {
		if d.Version > v.data[d.Key].Version {
			v.data[d.Key] = d
			changed = append(changed, d.Key)
		}
	}
	return changed
}

func (v *provideView) has(key, value string) bool {
	d := v.data[key]
	return slices.Contains(d.Values, value)
}

func (v *provideView) on(key string) bool {
	d := v.data[key]
	return d.on()
}
