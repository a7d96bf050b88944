package registry

// App-level service discovery, as SOFARegistry 6 does it: an application
// stores a revision (its metadata: the interfaces it serves) and publishes
// one publisher under its app dataInfoId naming that revision; a session
// pushes an interface subscriber the publishers of every app whose
// revision lists the interface. Revisions are immutable and kept with the
// provide data on the meta servers (the real metadata database); a session
// learns them by its provide data poll (the interface-to-app index) or, for
// a revision a push names and it has not seen, by asking the meta servers.
//
// A session acknowledges a revision, and applies the publisher naming it,
// only once a majority of the meta servers stored it; a push waits for
// every revision it names. With BugAppRevisionNotStored the revision is
// acknowledged at once and stored by a batch 100ms later, so a push can
// name a revision no meta server has: the session pushes without those
// publishers and nothing pushes them later (sofa-registry#336).

import (
	"slices"
	"strings"
	"time"

	"github.com/sofasim/sofasim/sim"
)

// AppRevision is an application revision's metadata.
type AppRevision struct {
	App        string
	Revision   string
	Interfaces []string
}

// AppDataID is an application's dataInfoId; InterfaceDataID is what an
// interface subscriber subscribes to.
func AppDataID(app string) string         { return "app/" + app }
func InterfaceDataID(iface string) string { return "iface/" + iface }

// AppPubData is an app publisher's data: its address and revision.
func AppPubData(addr, rev string) string { return addr + "@" + rev }

func revisionKey(rev string) string { return "revision/" + rev }

func revisionOf(pubData string) string {
	_, rev, _ := strings.Cut(pubData, "@")
	return rev
}

// sessionApps is a session server's app-level state.
type sessionApps struct {
	storing map[string]*revWrite // revision -> its write to the meta servers
	byReq   map[uint64]string    // write request -> revision
	asked   map[string]int       // revision -> meta servers that said they lack it
	missing map[string]bool      // revisions no meta server had when a push needed them
}

type revWrite struct {
	rev   AppRevision
	acks  int
	waits []revPub // publishers to apply once stored
}

type revPub struct {
	conn sim.ConnID
	pub  Pub
}

type revFlush struct{ rev string }

func (s *SessionServer) startApps() {
	s.apps = sessionApps{storing: map[string]*revWrite{}, byReq: map[uint64]string{}, asked: map[string]int{}, missing: map[string]bool{}}
}

// revision is a revision the session knows.
func (s *SessionServer) revision(rev string) (AppRevision, bool) {
	d, ok := s.ops.view.data[revisionKey(rev)]
	if !ok || len(d.Values) == 0 {
		return AppRevision{}, false
	}
	return AppRevision{App: d.Values[0], Revision: rev, Interfaces: d.Values[1:]}, true
}

// appMessage takes the app-level messages; it reports whether it did.
func (s *SessionServer) appMessage(c sim.ConnID, msg any) bool {
	switch x := msg.(type) {
	case *ClientRevision:
		s.onRevision(c, x)
	case *ProvideWriteAck:
		s.onRevisionStored(x.ReqID)
	case *ProvideMissing:
		rev := strings.TrimPrefix(x.Key, "revision/")
		s.apps.asked[rev]++
		if s.apps.asked[rev] == len(s.cfg.Metas) {
			s.apps.missing[rev] = true
			s.env.Reached("registry/app-revision-not-found")
			s.recomputeInterfaces()
		}
	case revFlush:
		s.storeRevision(s.apps.storing[x.rev])
	default:
		return false
	}
	return true
}

func (s *SessionServer) onRevision(c sim.ConnID, x *ClientRevision) {
	if _, ok := s.revision(x.Rev.Revision); ok {
		s.onPublish(c, &ClientPublish{Pub: x.Pub})
		return
	}
	w := s.apps.storing[x.Rev.Revision]
	if w == nil {
		w = &revWrite{rev: x.Rev}
		s.apps.storing[x.Rev.Revision] = w
		if s.bug(BugAppRevisionNotStored) {
			// acknowledged now, stored by the next batch
			s.env.SetTimer(100*time.Millisecond, revFlush{rev: x.Rev.Revision})
			s.onPublish(c, &ClientPublish{Pub: x.Pub})
			return
		}
		s.storeRevision(w)
	}
	if w.acks > len(s.cfg.Metas)/2 {
		s.onPublish(c, &ClientPublish{Pub: x.Pub})
		return
	}
	w.waits = append(w.waits, revPub{conn: c, pub: x.Pub})
}

// storeRevision writes a revision to every meta server.
func (s *SessionServer) storeRevision(w *revWrite) {
	d := ProvideData{Key: revisionKey(w.rev.Revision), Values: append([]string{w.rev.App}, w.rev.Interfaces...), Version: 1}
	for _, m := range s.cfg.Metas {
		s.nextReq++
		s.apps.byReq[s.nextReq] = w.rev.Revision
		s.m.peers.send(m, &ProvideWrite{ReqID: s.nextReq, Data: d})
	}
}

// onRevisionStored counts a meta server's acknowledgement; at a majority
// the publishers waiting for the revision are applied.
func (s *SessionServer) onRevisionStored(req uint64) {
	rev, ok := s.apps.byReq[req]
	if !ok {
		return
	}
	delete(s.apps.byReq, req)
	w := s.apps.storing[rev]
	w.acks++
	if w.acks <= len(s.cfg.Metas)/2 {
		return
	}
	waits := w.waits
	w.waits = nil
	for _, p := range waits {
		if s.clients[p.conn] != nil {
			s.onPublish(p.conn, &ClientPublish{Pub: p.pub})
		}
	}
}

// derived: an interface's or a watched config's datum, built by the
// session (a data server that learns such an id from a migration's cached
// versions announces an empty datum of it).
func isInterface(dataID string) bool { return strings.HasPrefix(dataID, "iface/") }

func derived(dataID string) bool {
	return strings.HasPrefix(dataID, "iface/") || strings.HasPrefix(dataID, "config/")
}

// fetchApps stands for fetching an interface's datum: it fetches every
// app datum (interfaceApps); a watched config is the watcher fetch's
// (watch.go).
func (s *SessionServer) fetchApps(dataID string) bool {
	if watched(dataID) {
		s.watchConfig(dataID)
		return true
	}
	apps, ok := s.interfaceApps(dataID)
	if !ok {
		return false
	}
	for _, id := range apps {
		s.fetch(id)
	}
	s.recompute(dataID)
	return true
}

// interfaceApps is what an interface's datum is built from, sorted: every
// app datum known (which apps serve the interface depends on their
// revisions); false for a dataInfoId that is not an interface's.
func (s *SessionServer) interfaceApps(dataID string) ([]string, bool) {
	if !strings.HasPrefix(dataID, "iface/") {
		return nil, false
	}
	apps := map[string]bool{}
	for _, id := range sortedKeys(s.cache) {
		if strings.HasPrefix(id, "app/") {
			apps[id] = true
		}
	}
	for _, k := range sortedKeys(s.ops.view.data) {
		if rev, ok := strings.CutPrefix(k, "revision/"); ok {
			if r, ok := s.revision(rev); ok {
				apps[AppDataID(r.App)] = true
			}
		}
	}
	return sortedKeys(apps), true
}

// appDatum: an app datum changed, so may every interface's.
func (s *SessionServer) appDatum(d *Datum) {
	if strings.HasPrefix(d.DataID, "app/") {
		s.recomputeInterfaces()
	}
}

func (s *SessionServer) recomputeInterfaces() {
	for _, id := range sortedKeysIf(s.byData, isInterface) {
		s.recompute(id)
	}
}

// recompute builds an interface's datum from the cached app datums; its
// version is the sum of theirs, so it grows with each of them. A publisher
// naming a revision the session has not seen holds the push back while the
// meta servers are asked for it.
func (s *SessionServer) recompute(ifaceID string) {
	iface := strings.TrimPrefix(ifaceID, "iface/")
	out := &Datum{DataID: ifaceID}
	held := false
	for _, id := range sortedKeys(s.cache) {
		if !strings.HasPrefix(id, "app/") {
			continue
		}
		d := s.cache[id]
		out.Version += d.Version
		for _, p := range d.Pubs {
			rev := revisionOf(p.Data)
			r, ok := s.revision(rev)
			switch {
			case ok && slices.Contains(r.Interfaces, iface):
				out.Pubs = append(out.Pubs, p)
			case !ok && s.apps.missing[rev]:
				// the real session logs "app revision not exist" and
				// pushes without the publisher
			case !ok:
				held = true
				s.askRevision(rev)
			}
		}
	}
	if held {
		s.env.Reached("registry/push-held-for-revision")
		return
	}
	sortPubData(out.Pubs)
	if c := s.cache[ifaceID]; c != nil && c.Version >= out.Version {
		return
	}
	s.cache[ifaceID] = out
	for _, x := range s.byData[ifaceID] {
		s.maybePush(x)
	}
}

// askRevision asks every meta server for a revision, once until answered.
func (s *SessionServer) askRevision(rev string) {
	if _, asking := s.apps.asked[rev]; asking {
		return
	}
	s.apps.asked[rev] = 0
	for _, m := range s.cfg.Metas {
		s.m.peers.send(m, &ProvideGet{Key: revisionKey(rev)})
	}
}

// revisionsLearnt: the provide data brought revisions (pushes held for
// them can go).
func (s *SessionServer) revisionsLearnt(keys []string) {
	for _, k := range keys {
		if strings.HasPrefix(k, "revision/") {
			rev := strings.TrimPrefix(k, "revision/")
			delete(s.apps.asked, rev)
			delete(s.apps.missing, rev)
		}
	}
	s.recomputeInterfaces()
}
