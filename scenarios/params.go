package scenarios

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ParamKind is a parameter's type.
type ParamKind string

const (
	ParamInt      ParamKind = "int"      // an integer in Min..Max, or one of Choices
	ParamDuration ParamKind = "duration" // a positive duration such as 30s
	ParamChoice   ParamKind = "choice"   // one of a few names, such as static or registry
)

// Param declares a scenario parameter once: its type, allowed values,
// default and help. Every value a user gives is checked here and nowhere
// else, so a bad value is one clear error (exit 2 in the CLI).
type Param struct {
	Name    string    `json:"name"`
	Kind    ParamKind `json:"kind"`
	Default string    `json:"default"`
	Usage   string    `json:"usage"`
	// Min and Max bound an integer (inclusive).
	Min int `json:"min,omitempty"`
	Max int `json:"max,omitempty"`
	// Choices, when set, are the only integers allowed.
	Choices []int `json:"choices,omitempty"`
	// Names are the values a choice parameter takes.
	Names []string `json:"names,omitempty"`
}

// Int declares an integer parameter in min..max.
func Int(name string, def, min, max int, usage string) Param {
	return Param{Name: name, Kind: ParamInt, Default: strconv.Itoa(def), Usage: usage, Min: min, Max: max}
}

// OneOf declares an integer parameter with a few allowed values.
func OneOf(name string, def int, choices []int, usage string) Param {
	return Param{Name: name, Kind: ParamInt, Default: strconv.Itoa(def), Usage: usage, Choices: choices}
}

// Choice declares a parameter that is one of a few names (a deployment
// choice such as discovery=static|registry, clearer than a number).
func Choice(name, def string, names []string, usage string) Param {
	return Param{Name: name, Kind: ParamChoice, Default: def, Usage: usage, Names: names}
}

// Dur declares a positive duration parameter.
func Dur(name string, def time.Duration, usage string) Param {
	return Param{Name: name, Kind: ParamDuration, Default: def.String(), Usage: usage}
}

// Allowed says which values the parameter takes, for help and errors.
func (p Param) Allowed() string {
	switch {
	case p.Kind == ParamDuration:
		return "a positive duration (such as 30s)"
	case p.Kind == ParamChoice:
		return "one of " + strings.Join(p.Names, ", ")
	case len(p.Choices) > 0:
		s := make([]string, len(p.Choices))
		for i, c := range p.Choices {
			s[i] = strconv.Itoa(c)
		}
		return "one of " + strings.Join(s, ", ")
	}
	return fmt.Sprintf("an integer in %d..%d", p.Min, p.Max)
}

// parse checks one value.
func (p Param) parse(v string) (any, error) {
	bad := func() error { return fmt.Errorf("parameter %s=%q: want %s", p.Name, v, p.Allowed()) }
	switch p.Kind {
	case ParamDuration:
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return nil, bad()
		}
		return d, nil
	case ParamChoice:
		if !slices.Contains(p.Names, v) {
			return nil, bad()
		}
		return v, nil
	case ParamInt:
		n, err := strconv.Atoi(v)
		if err != nil {
			return nil, bad()
		}
		if len(p.Choices) > 0 && !slices.Contains(p.Choices, n) || len(p.Choices) == 0 && (n < p.Min || n > p.Max) {
			return nil, bad()
		}
		return n, nil
	}
	return nil, fmt.Errorf("parameter %s has no kind", p.Name)
}

// checkParams checks a scenario's declarations: kinds set, defaults valid,
// names unique. Register calls it, so a bad declaration fails at start-up.
func checkParams(ps []Param) error {
	seen := map[string]bool{}
	for _, p := range ps {
		if seen[p.Name] {
			return fmt.Errorf("parameter %s declared twice", p.Name)
		}
		seen[p.Name] = true
		if _, err := p.parse(p.Default); err != nil {
			return fmt.Errorf("default: %v", err)
		}
	}
	return nil
}

// Values are a plan's parameter values, checked and typed, defaults filled in.
type Values struct{ v map[string]any }

// Int returns an integer parameter. Asking for an undeclared or
// differently typed parameter is a programming error and panics.
func (p Values) Int(name string) int { return get[int](p, name) }

// String returns a choice parameter.
func (p Values) String(name string) string { return get[string](p, name) }

// Duration returns a duration parameter.
func (p Values) Duration(name string) time.Duration { return get[time.Duration](p, name) }

func get[T any](p Values, name string) T {
	v, ok := p.v[name].(T)
	if !ok {
		panic(fmt.Sprintf("scenarios: parameter %s is not declared as %T", name, v))
	}
	return v
}

// ResolveParams checks given values against the scenario's declarations
// and fills in the defaults.
func ResolveParams(sc *Scenario, given map[string]string) (Values, error) {
	out := Values{v: map[string]any{}}
	for _, k := range slices.Sorted(maps.Keys(given)) {
		if !slices.ContainsFunc(sc.Params, func(p Param) bool { return p.Name == k }) {
			return Values{}, fmt.Errorf("scenario %s has no parameter %q (has: %s)", sc.Name, k, paramNames(sc))
		}
	}
	for _, p := range sc.Params {
		s, ok := given[p.Name]
		if !ok {
			s = p.Default
		}
		v, err := p.parse(s)
		if err != nil {
			return Values{}, err
		}
		out.v[p.Name] = v
	}
	return out, nil
}

func paramNames(sc *Scenario) string {
	names := make([]string, len(sc.Params))
	for i, p := range sc.Params {
		names[i] = p.Name
	}
	return strings.Join(names, ", ")
}
