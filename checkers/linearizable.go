package checkers

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/anishathalye/porcupine"
)

// Linearizable checks a history for linearizability with porcupine, one
// key at a time (a history is linearizable iff each key's sub-history is).
// Keys are searched in sorted order in rounds of growing step budgets, so
// the keys reported failing depend only on the history; the time limit is
// shared by all keys.
type Linearizable struct {
	// Model names the model (see [ModelByName]); empty means the history's
	// own Model.
	Model string
}

// Name is "linearizable".
func (Linearizable) Name() string { return "linearizable" }

// Check returns Pass only when every key was found linearizable, Fail when
// a key has no linearization (naming, per failing key, the ops that cannot
// follow the longest linearizable prefix and the op whose value they
// contradict), and Unknown when the time ran out first or the history is
// invalid. Operations that failed definitely (Output.Err) are skipped, and
// so are reads that never returned: legal in every state and changing
// none, they constrain nothing, yet open to the end they would widen every
// later op's choices.
func (l Linearizable) Check(h History, opts Options) Result {
	res := Result{Checker: l.Name(), Verdict: Unknown, Cause: CauseUnjudgeable}
	name := l.Model
	if name == "" {
		name = h.Model
	}
	if name == "" {
		res.Explanation = "no model to check against: the history names none and none was given"
		return res
	}
	model, err := ModelByName(name)
	if err == nil {
		err = h.validateStructure()
	}
	if err == nil {
		err = model.validate(h)
	}
	if err != nil {
		res.Explanation = "invalid history: " + err.Error()
		return res
	}

	keys, byKey, dropped := porcupineOps(h)
	pm := porcupineModel(h.Init)
	lin := &Linearization{model: pm}
	res.Linearization = lin
	if len(keys) == 0 {
		res.Verdict, res.Cause = Pass, ""
		res.Explanation = "nothing to check: the history is empty, so it is trivially linearizable"
		if dropped.total() > 0 {
			res.Explanation = fmt.Sprintf("nothing to check: all %d ops failed definitely or are reads that never returned, so the history is trivially linearizable", dropped.total())
		}
		return res
	}

	var deadline time.Time
	if opts.TimeLimit > 0 {
		deadline = time.Now().Add(opts.TimeLimit)
	}
	remaining := func() (time.Duration, bool) {
		if deadline.IsZero() {
			return 0, true
		}
		d := time.Until(deadline)
		return d, d > 0
	}
	// Keys are searched in rounds of growing step budgets, so that one key
	// that is slow to refute does not hide another that fails at once
	// (porcupine races partitions for this, which would make the reported
	// key depend on scheduling); the budgets make it deterministic.
	var failed, decided []string
	undecided := keys
	for budget := int64(firstBudget); len(undecided) > 0 && len(failed) == 0; budget = min(budget*4, 1<<62) {
		var next []string
		timedOut := false
		for _, k := range undecided {
			limit, ok := remaining()
			if !ok {
				timedOut = true
				next = append(next, k)
				continue
			}
			if opts.Progress != nil {
				opts.Progress(len(decided)+len(failed), len(keys), "keys")
			}
			switch checkKey(h.Init, byKey[k], budget, limit) {
			case porcupine.Ok:
				decided = append(decided, k)
			case porcupine.Illegal:
				failed = append(failed, k)
			default:
				next = append(next, k)
			}
		}
		undecided = next
		if timedOut {
			break
		}
	}

	res.Cause = ""
	switch {
	case len(failed) > 0:
		res.Verdict = Fail
		lin.ops = collect(byKey, failed)
		note := ""
		if rest := len(keys) - len(failed) - len(decided); rest > 0 {
			note = fmt.Sprintf(" (the search stopped there: %d other keys were not searched to the end", rest)
			if len(decided) > 0 {
				note += fmt.Sprintf(", %d are linearizable", len(decided))
			}
			note += ")"
		}
		res.Explanation, res.Ops = explainFailure(h, model, lin, failed, note, byKey, remaining)
	case len(undecided) > 0:
		lin.ops = collect(byKey, decided)
		res.Cause = CauseTimeLimit
		res.Explanation = fmt.Sprintf("time limit %v ran out with %d of %d keys undecided (%s); no violation in the other %d",
			opts.TimeLimit, len(undecided), len(keys), listKeys(undecided, 5), len(decided))
	default:
		res.Verdict = Pass
		lin.ops = collect(byKey, keys)
		n := len(h.Ops) - dropped.total()
		res.Explanation = fmt.Sprintf("linearizable: %d ops on %s", n, plural(len(keys), "key"))
		if unknown := countUnknown(h) - dropped.openReads - dropped.unseenWrite; unknown > 0 {
			res.Explanation += fmt.Sprintf(", %d of them with unknown outcome", unknown)
		}
		if dropped.failed > 0 {
			res.Explanation += fmt.Sprintf("; %d ops that failed definitely were skipped", dropped.failed)
		}
		if dropped.openReads > 0 {
			res.Explanation += fmt.Sprintf("; %d reads that never returned were skipped", dropped.openReads)
		}
		if dropped.unseenWrite > 0 {
			res.Explanation += fmt.Sprintf("; %d writes with unknown outcome whose value nothing observed were skipped", dropped.unseenWrite)
		}
	}
	return res
}

// firstBudget is the step budget of the first round; each round has four
// times the last, so rounds add at most a third to the work.
const firstBudget = 1 << 14

// checkKey checks one key's ops within a budget of model steps and a time
// limit (0: none). It returns Unknown when either runs out. A search that
// hits the budget is told that every further step is illegal, which only
// makes it end sooner: Ok is then impossible and Illegal is discarded.
func checkKey(init *string, ops []porcupine.Operation, budget int64, limit time.Duration) porcupine.CheckResult {
	m := porcupineModel(init)
	var steps atomic.Int64
	var exhausted atomic.Bool
	inner := m.Step
	m.Step = func(state, input, output any) (bool, any) {
		if steps.Add(1) > budget {
			exhausted.Store(true)
			return false, state
		}
		return inner(state, input, output)
	}
	res := porcupine.CheckOperationsTimeout(m, ops, limit)
	if res == porcupine.Illegal && exhausted.Load() {
		return porcupine.Unknown
	}
	return res
}

// dropped counts the ops left out of the search because they cannot change
// its verdict.
type dropped struct {
	failed      int // failed definitely: they did not happen
	openReads   int // reads with unknown outcome: legal anywhere, changing nothing
	unseenWrite int // writes with unknown outcome whose value nothing observed
}

func (d dropped) total() int { return d.failed + d.openReads + d.unseenWrite }

// unseen finds, per key, the writes with unknown outcome whose value no
// op observed: no read returned, append reported or cas expected it (on a
// key with appends, a value containing it), a cas with unknown outcome
// included: had it taken effect, it saw the value it expected. Such a write can be left out:
// placed last it changes nothing anyone sees, and wherever a linearization
// places it, the value it leaves is overwritten before anything looks, so
// the same order without it is legal too. A cas that failed looks without
// saying what it saw (the value might have been this write's), so a key
// with one keeps all its writes. Register keys look values up in a set and
// list keys search one joined string, so a hot key costs linear time, not
// unknown writes times observations.
func unseen(h History) map[int]bool {
	type keyInfo struct {
		failedCAS, lists bool
		exact            map[string]bool
		joined           strings.Builder // observed values, NUL-separated
	}
	keys := map[string]*keyInfo{}
	info := func(k string) *keyInfo {
		if keys[k] == nil {
			keys[k] = &keyInfo{exact: map[string]bool{}}
		}
		return keys[k]
	}
	observe := func(ki *keyInfo, v string) {
		if !ki.exact[v] {
			ki.exact[v] = true
			ki.joined.WriteString(v)
			ki.joined.WriteByte(0)
		}
	}
	for _, op := range h.Ops {
		if op.Input.Kind == KindAppend {
			info(op.Key).lists = true
		}
		if op.Unknown {
			// a cas with unknown outcome that took effect saw its expected
			// value: a write of that value is observed through it
			if op.Input.Kind == KindCAS && !op.Input.ExpectAbsent {
				observe(info(op.Key), op.Input.Expected)
			}
			continue
		}
		if op.Output.Err != "" {
			continue
		}
		switch op.Input.Kind {
		case KindGet, KindRead, KindAppend:
			if op.Output.Found {
				observe(info(op.Key), op.Output.Value)
			}
		case KindCAS:
			ki := info(op.Key)
			if !op.Output.OK {
				ki.failedCAS = true
			}
			if !op.Input.ExpectAbsent {
				observe(ki, op.Input.Expected)
			}
		}
	}
	out := map[int]bool{}
	for _, op := range h.Ops {
		if !op.Unknown {
			continue
		}
		switch op.Input.Kind {
		case KindPut, KindWrite, KindAppend, KindCAS:
		default:
			continue
		}
		ki := info(op.Key)
		v := op.Input.Value
		if ki.failedCAS || v == "" || ki.exact[v] {
			continue
		}
		if ki.lists && (strings.IndexByte(v, 0) >= 0 || strings.Contains(ki.joined.String(), v)) {
			continue // seen inside a list (a NUL in v could straddle two values: keep it)
		}
		out[op.ID] = true
	}
	return out
}

// porcupineOps turns the history into porcupine operations grouped by key
// (keys sorted), leaving out what constrains nothing (see [dropped]);
// Input and Metadata point at the history's ops. Unknown ops return at the
// end of the history. Porcupine's visualisation draws one row per client
// id from 0 up, so client ids stay as they are when small and are
// renumbered densely otherwise; the metadata, shown on hover, names the op
// and its real client.
func porcupineOps(h History) (keys []string, byKey map[string][]porcupine.Operation, d dropped) {
	end := h.end()
	var clients []int
	for _, op := range h.Ops {
		clients = append(clients, op.Client)
	}
	slices.Sort(clients)
	clients = slices.Compact(clients)
	dense := len(clients) > 0 && (clients[0] < 0 || clients[len(clients)-1] >= maxClientRows)
	byKey = map[string][]porcupine.Operation{}
	drop := unseen(h)
	for i := range h.Ops {
		op := &h.Ops[i] // shared, not copied: a history may hold millions
		if !op.Unknown && op.Output.Err != "" {
			d.failed++
			continue
		}
		if op.Unknown && (op.Input.Kind == KindGet || op.Input.Kind == KindRead) {
			d.openReads++
			continue
		}
		if drop[op.ID] {
			d.unseenWrite++
			continue
		}
		ret := op.Return
		if op.Unknown {
			ret = end
		}
		client := op.Client
		if dense {
			client, _ = slices.BinarySearch(clients, op.Client)
		}
		if _, ok := byKey[op.Key]; !ok {
			keys = append(keys, op.Key)
		}
		byKey[op.Key] = append(byKey[op.Key], porcupine.Operation{
			ClientId: client, Input: op, Call: op.Call, Return: ret, // the op holds its output
			Metadata: op,
		})
	}
	slices.Sort(keys)
	return keys, byKey, d
}

// maxClientRows bounds the client ids drawn as they are.
const maxClientRows = 1024

func collect(byKey map[string][]porcupine.Operation, keys []string) []porcupine.Operation {
	var ops []porcupine.Operation
	for _, k := range keys {
		ops = append(ops, byKey[k]...)
	}
	return ops
}

// explainFailure reruns porcupine verbosely on the failing keys (the same
// deterministic search, now recording partial linearizations) and, per
// key, names the longest linearizable prefix, the op that set the value it
// ends with, and the ops that must come next but contradict that value.
func explainFailure(h History, model Model, lin *Linearization, failed []string, note string, byKey map[string][]porcupine.Operation, remaining func() (time.Duration, bool)) (string, []int) {
	head := "not linearizable" + note
	if len(byKey) > 1 {
		head = fmt.Sprintf("not linearizable: %s of %s %s no legal order%s",
			plural(len(failed), "key"), plural(len(byKey), "key"), map[bool]string{true: "has", false: "have"}[len(failed) == 1], note)
	}
	limit, ok := remaining()
	var info porcupine.LinearizationInfo
	var res porcupine.CheckResult
	if ok {
		res, info = porcupine.CheckOperationsVerbose(lin.model, lin.ops, limit)
	}
	if res != porcupine.Illegal {
		// Out of time for the details; the verdict stands.
		var ids []int
		for _, op := range lin.ops {
			ids = append(ids, op.Input.(*Op).ID)
		}
		slices.Sort(ids)
		return fmt.Sprintf("%s (%s); the time limit left no time to find the conflicting ops: replay without a limit",
			head, listKeys(failed, 5)), ids
	}
	lin.info = &info
	partials := info.PartialLinearizationsOperations()
	var parts []string
	var ids []int
	for p, k := range failed {
		text, involved := explainKey(h, model, k, byKey[k], partials[p])
		ids = append(ids, involved...)
		if p < 3 {
			parts = append(parts, text)
		}
	}
	if len(failed) > 3 {
		parts = append(parts, fmt.Sprintf("and %d more keys", len(failed)-3))
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	return head + ". " + strings.Join(parts, " "), ids
}

func explainKey(h History, model Model, key string, ops []porcupine.Operation, partials [][]porcupine.Operation) (string, []int) {
	// The longest partial linearization; ties go to the smallest id sequence.
	var best []int
	for _, p := range partials {
		seq := make([]int, len(p))
		for i, o := range p {
			seq[i] = o.Input.(*Op).ID
		}
		if len(seq) > len(best) || (len(seq) == len(best) && slices.Compare(seq, best) < 0) {
			best = seq
		}
	}
	state := register{}
	if h.Init != nil {
		state = register{*h.Init, true}
	}
	writer := -1
	inPrefix := map[int]bool{}
	for _, id := range best {
		op := h.Ops[id]
		_, next := step(state, op)
		if writes(op, state) {
			writer = id
		}
		state = next
		inPrefix[id] = true
	}
	// The ops that could come next: every op not yet placed whose call is
	// no later than the earliest return among them (intervals are closed).
	var rest []porcupine.Operation
	for _, o := range ops {
		if !inPrefix[o.Input.(*Op).ID] {
			rest = append(rest, o)
		}
	}
	minReturn := int64(0)
	for i, o := range rest {
		if i == 0 {
			minReturn = o.Return
		}
		minReturn = min(minReturn, o.Return)
	}
	var next []int
	for _, o := range rest {
		if o.Call <= minReturn {
			next = append(next, o.Input.(*Op).ID)
		}
	}
	slices.Sort(next)

	subject := fmt.Sprintf("key %q", key)
	if key == "" && model.Name == "cas-register" {
		subject = "the register"
	}
	if key == "" && model.Name == "mutex" {
		subject = "the lock"
	}
	shown := state.String()
	if model.Name == "mutex" {
		shown = map[bool]string{true: "it held", false: "it free"}[state.present]
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: no order of its %d ops is legal; ", capitalize(subject), len(ops))
	if len(best) == 0 {
		fmt.Fprintf(&b, "not even a first op can be placed, starting from %s", shown)
	} else {
		fmt.Fprintf(&b, "the longest legal prefix places %d of them and leaves %s", len(best), shown)
		if writer >= 0 {
			fmt.Fprintf(&b, " (set by %s)", h.Ops[writer].describe())
		} else {
			b.WriteString(" (the initial value)")
		}
	}
	b.WriteString(", which none of the ops that must come next can follow: ")
	var descs []string
	for i, id := range next {
		if i == 5 {
			descs = append(descs, fmt.Sprintf("and %d more", len(next)-5))
			break
		}
		descs = append(descs, h.Ops[id].describe())
	}
	b.WriteString(strings.Join(descs, "; ") + ".")
	involved := next
	if writer >= 0 {
		involved = append(involved, writer)
	}
	return b.String(), involved
}

// writes reports whether op, applied to s, sets the key's value.
func writes(op Op, s register) bool {
	switch op.Input.Kind {
	case KindPut, KindWrite, KindAppend, KindDelete:
		return true
	case KindCAS:
		return casMatches(s, op.Input)
	}
	return false
}

func countUnknown(h History) int {
	n := 0
	for _, op := range h.Ops {
		if op.Unknown {
			n++
		}
	}
	return n
}

func listKeys(keys []string, max int) string {
	var parts []string
	for i, k := range keys {
		if i == max {
			parts = append(parts, fmt.Sprintf("and %d more", len(keys)-max))
			break
		}
		parts = append(parts, fmt.Sprintf("key %q", k))
	}
	return strings.Join(parts, ", ")
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// Linearization is porcupine's evidence behind a [Linearizable] result,
// for porcupine's HTML visualisation: the model and the operations of the
// keys worth showing (the failing keys of a failure; every decided key
// otherwise).
type Linearization struct {
	model porcupine.Model
	ops   []porcupine.Operation
	info  *porcupine.LinearizationInfo
}

// Model returns the porcupine model (partitioned by key).
func (l *Linearization) Model() porcupine.Model { return l.model }

// Info returns porcupine's LinearizationInfo for the shown keys. For a
// failure it was computed during the check; otherwise porcupine reruns the
// same (already decided, deterministic) search once, without a time limit.
func (l *Linearization) Info() porcupine.LinearizationInfo {
	if l.info == nil {
		_, info := porcupine.CheckOperationsVerbose(l.model, l.ops, 0)
		l.info = &info
	}
	return *l.info
}

// Visualize writes porcupine's self-contained HTML page for the shown
// keys, with extra annotations such as fault periods (in the history's
// virtual time).
func (l *Linearization) Visualize(w io.Writer, annotations ...porcupine.Annotation) error {
	info := l.Info()
	if len(annotations) > 0 {
		info.AddAnnotations(annotations)
	}
	return porcupine.Visualize(l.model, info, w)
}
