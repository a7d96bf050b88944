package registry

// Watchers: a watcher of dataInfoId X subscribes to "config/X" and expects
// the one publisher "config" holding the config last set by a drill.

// addConfigs adds each watched config's expected value.
func (s *regState) addConfigs(out map[string]map[string]Event) {
	for _, d := range s.drills(DrillSetConfig) {
		out["config/"+d.DataID] = map[string]Event{"config": {Kind: Publish, T: d.T, Client: -1, DataID: "config/" + d.DataID, RegID: "config", Data: d.Data}}
	}
}
