package registry

import "strings"

// App-level discovery: an interface subscriber (of "iface/I") expects the
// publishers of every app ("app/A") whose revision, named in the
// publisher's data ("addr@revision"), lists I.

// revisionInterfaces maps each deployed revision to the interfaces it lists.
func (s *regState) revisionInterfaces() map[string][]string {
	ifaces := map[string][]string{}
	for _, ev := range s.evs {
		if ev.Kind == Revision {
			ifaces[ev.Data] = ev.Interfaces
		}
	}
	return ifaces
}

// addInterfaces adds to the expected publishers per dataInfoId those of
// each interface.
func (s *regState) addInterfaces(out map[string]map[string]Event) {
	ifaces := s.revisionInterfaces()
	if len(ifaces) == 0 {
		return
	}
	for _, id := range sortedStr(out) {
		if !strings.HasPrefix(id, "app/") {
			continue
		}
		for _, reg := range sortedStr(out[id]) {
			ev := out[id][reg]
			_, rev, _ := strings.Cut(ev.Data, "@")
			for _, i := range ifaces[rev] {
				if out["iface/"+i] == nil {
					out["iface/"+i] = map[string]Event{}
				}
				out["iface/"+i][reg] = ev
			}
		}
	}
}
