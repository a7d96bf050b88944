package sim

// Bug is a planted bug: a failpoint named bug/<system>/<name> in a real
// code path, off unless a scenario or the CLI arms it. Each system's nodes
// package exports its own list; scenarios and the CLI list them as they are.
type Bug struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}
