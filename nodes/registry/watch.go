package registry

// Watchers (config subscribers): a client watches a dataInfoId's config,
// which an operator keeps in provide data (ConfigKey), and is pushed each
// new version of it, as SOFARegistry's session does for watchers
// (ConfigProvideDataWatcher). A watcher is a subscriber of "config/<id>"
// whose datum the session builds from the provide data it polls, with the
// provide data's version, so pushes, acks and retries are the
// subscribers'.

import "strings"

// Watch registers a watcher of dataID's config; pushes go to OnPush with
// one publisher "config" whose data is the config's values, comma-joined.
func (c *Client) Watch(dataID, regID string) { c.Subscribe(ConfigKey(dataID), regID) }

// ConfigPub is the publisher name a config push carries.
const ConfigPub = "config"

// configDatum builds a watched config's datum from the provide data.
func (s *SessionServer) configDatum(key string) {
	d, ok := s.ops.view.data[key]
	if !ok {
		return
	}
	if c := s.cache[key]; c != nil && c.Version >= d.Version {
		return
	}
	x := &Datum{DataID: key, Version: d.Version}
	if len(d.Values) > 0 {
		x.Pubs = []PubData{{RegID: ConfigPub, Data: strings.Join(d.Values, ","), Version: d.Version}}
	}
	s.cache[key] = x
	s.env.Reached("registry/config-pushed")
	for _, reg := range sortedKeys(s.byData[key]) {
		s.maybePush(s.subs[reg])
	}
}
