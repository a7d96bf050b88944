package registry

// Watchers (config subscribers), as SOFARegistry's session serves them
// (DefaultSessionRegistryStrategy, ConfigProvideDataWatcher, WatchProcessor).
// A watcher is a subscriber of "config/<id>" whose pushes the session builds
// itself, never from the data servers:
//
//   - watchConfigEnable false (the default): the watcher is pushed null
//     content once, when it registers; the watcher scan (every
//     ScanInterval) pushes it again until one push was acknowledged, and
//     nothing else is ever pushed to it.
//   - watchConfigEnable true: the session keeps the configs its watchers
//     watch, fetched from the provide data every FetchInterval (a newly
//     watched id at once) and forgotten FetchLease after its last watcher
//     left; the scan pushes each watcher the fetched config it has not
//     acknowledged. A config never set is never pushed.
//
// A watcher push has no debounce, retry or breaker of its own: a failed
// one is pushed again by the next scan. Stop push holds watchers too.

import (
	"strings"
	"time"
)

// WatchConfig configures watchers: SessionServerConfigBean's
// watchConfigEnable, watchConfigFetchIntervalMillis,
// watchConfigFetchLeaseSecs and scanWatcherIntervalMillis.
type WatchConfig struct {
	Enable        bool          // default false: watchers are pushed null content
	FetchInterval time.Duration // default 30s
	FetchLease    time.Duration // default 30s
	ScanInterval  time.Duration // default 3s
}

func (c *WatchConfig) defaults() {
	defaultDur(&c.FetchInterval, 30*time.Second)
	defaultDur(&c.FetchLease, 30*time.Second)
	defaultDur(&c.ScanInterval, 3*time.Second)
}

// Bound is how long a watcher may wait, away from faults, for what it is
// owed once the meta servers hold it: the next fetch (enabled), a scan,
// a push that times out (pushTimeout) and the scan after it.
func (c WatchConfig) Bound(pushTimeout time.Duration) time.Duration {
	c.defaults()
	b := 2*c.ScanInterval + pushTimeout
	if c.Enable {
		b += c.FetchInterval
	}
	return b
}

// Watch registers a watcher of dataID's config; pushes go to OnPush with
// one publisher "config" whose data is the config's values, comma-joined
// (with watchConfigEnable), or with no publisher (null content).
func (c *Client) Watch(dataID, regID string) { c.Subscribe(ConfigKey(dataID), regID) }

// ConfigPub is the publisher name a config push carries.
const ConfigPub = "config"

// watched: a watcher's dataInfoId.
func watched(dataID string) bool { return strings.HasPrefix(dataID, "config/") }

// The session's watcher messages: the meta answers a WatchFetch with the
// configs newer than asked for (the real session's fetchData by
// dataInfoId and version).
type (
	WatchFetch struct {
		Have map[string]uint64 // config key -> version held (0: none)
	}
	WatchAnswer struct{ Data []ProvideData }
)

type (
	watchScanTick  struct{}
	watchFetchTick struct{ gen uint64 }
)

// sessionWatch is a session's watcher state.
type sessionWatch struct {
	cfgs     map[string]*watchedCfg // enabled only: the configs fetched, by key
	fetchGen uint64                 // names the pending fetch timer (a wake-up supersedes it)
	next     int                    // the meta asked next
	lastNull uint64                 // the last null-content version (DatumVersionUtil.nextId)
}

type watchedCfg struct {
	data    *ProvideData // nil: not fetched yet (or never set)
	touched time.Duration
}

func (s *SessionServer) startWatch() {
	s.ops.watch = sessionWatch{cfgs: map[string]*watchedCfg{}}
	s.env.SetTimer(s.cfg.Watch.ScanInterval, watchScanTick{})
	if s.cfg.Watch.Enable {
		s.armWatchFetch()
	}
}

// watchMessage takes the watcher timers and answers; it reports whether
// msg was one.
func (s *SessionServer) watchMessage(msg any) bool {
	switch x := msg.(type) {
	case watchScanTick:
		s.env.SetTimer(s.cfg.Watch.ScanInterval, watchScanTick{})
		s.scanWatchers()
	case watchFetchTick:
		if x.gen == s.ops.watch.fetchGen {
			s.fetchConfigs()
		}
	case *WatchAnswer:
		s.takeConfigs(x)
	default:
		return false
	}
	return true
}

// watchConfig: a watcher of key registered. With watchConfigEnable the
// key is watched from now on; a key not watched yet wakes the fetch.
func (s *SessionServer) watchConfig(key string) {
	if !s.cfg.Watch.Enable {
		return
	}
	if c := s.ops.watch.cfgs[key]; c != nil {
		c.touched = s.env.Monotonic()
		return
	}
	s.ops.watch.cfgs[key] = &watchedCfg{touched: s.env.Monotonic()}
	s.fetchConfigs()
}

// scanWatchers is the watcher scan: the keys with watchers are kept
// watched, and every watcher is pushed what it is owed.
func (s *SessionServer) scanWatchers() {
	now := s.env.Monotonic()
	for _, id := range sortedKeysIf(s.byData, watched) {
		if c := s.ops.watch.cfgs[id]; c != nil {
			c.touched = now
		}
		for _, x := range s.byData[id] {
			s.pushWatcher(x)
		}
	}
}

// armWatchFetch sets the next fetch FetchInterval from now.
func (s *SessionServer) armWatchFetch() {
	s.ops.watch.fetchGen++
	s.env.SetTimer(s.cfg.Watch.FetchInterval, watchFetchTick{gen: s.ops.watch.fetchGen})
}

// fetchConfigs forgets the keys unwatched for FetchLease, asks a meta
// server for the others, and sets the next fetch.
func (s *SessionServer) fetchConfigs() {
	s.armWatchFetch()
	now := s.env.Monotonic()
	have := map[string]uint64{}
	for _, k := range sortedKeys(s.ops.watch.cfgs) {
		c := s.ops.watch.cfgs[k]
		if now-c.touched > s.cfg.Watch.FetchLease {
			delete(s.ops.watch.cfgs, k)
			continue
		}
		have[k] = 0
		if c.data != nil {
			have[k] = c.data.Version
		}
	}
	if len(have) == 0 || len(s.cfg.Metas) == 0 {
		return
	}
	s.m.peers.send(s.cfg.Metas[s.ops.watch.next%len(s.cfg.Metas)], &WatchFetch{Have: have})
	s.ops.watch.next++
}

// takeConfigs keeps the newer configs of watched keys; the next scan
// pushes them.
func (s *SessionServer) takeConfigs(a *WatchAnswer) {
	for _, d := range a.Data {
		c := s.ops.watch.cfgs[d.Key]
		if c == nil || (c.data != nil && c.data.Version >= d.Version) {
			continue
		}
		c.data = &d
	}
}

// pushWatcher pushes a watcher what it is owed, one push in flight.
func (s *SessionServer) pushWatcher(x *sub) {
	if x.inflight {
		return
	}
	if x.pipe.sentVer > 0 && x.pushed >= x.pipe.sentVer {
		x.watchAcked = true // WatchPushCallback: the push was acknowledged
	}
	if s.pushHeld(x) {
		return
	}
	d := s.watcherDatum(x)
	if d == nil {
		return
	}
	if d.Version <= x.pushed {
		// the client holds this version or a newer one: the real client
		// acknowledges and drops it (DefaultConfigurator keeps only newer data)
		x.watchAcked = true
		return
	}
	s.sendPush(x, d)
}

// watcherDatum is what x is owed: null content until a push was
// acknowledged (disabled), or the fetched config if newer than what x
// acknowledged (enabled); nil for nothing.
func (s *SessionServer) watcherDatum(x *sub) *Datum {
	if !s.cfg.Watch.Enable {
		if x.watchAcked {
			return nil
		}
		// a new version each time, from the session's clock (nextId)
		s.ops.watch.lastNull = max(s.ops.watch.lastNull+1, uint64(s.env.Now().UnixMilli()))
		s.env.Reached("registry/watcher-null-pushed")
		return &Datum{DataID: x.dataID, Version: s.ops.watch.lastNull}
	}
	c := s.ops.watch.cfgs[x.dataID]
	if c == nil || c.data == nil || (x.watchAcked && x.pushed >= c.data.Version) {
		return nil
	}
	s.env.Reached("registry/config-pushed")
	d := &Datum{DataID: x.dataID, Version: c.data.Version}
	if len(c.data.Values) > 0 {
		d.Pubs = []PubData{{RegID: ConfigPub, Data: strings.Join(c.data.Values, ","), Version: c.data.Version}}
	}
	return d
}

// watchAnswer is a meta server's answer to a WatchFetch: the stored
// configs newer than the versions held.
func (p *provideStore) watchAnswer(f *WatchFetch) *WatchAnswer {
	a := &WatchAnswer{}
	for _, k := range sortedKeys(f.Have) {
		if d, ok := p.data[k]; ok && d.Version > f.Have[k] {
			a.Data = append(a.Data, d)
		}
	}
	return a
}
