package detlint

import (
	"go/ast"
	"go/token"
	"go/types"
	"strconv"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/ast/edge"
	"golang.org/x/tools/go/ast/inspector"
	"golang.org/x/tools/go/types/typeutil"
)

// Analyzer reports determinism hazards; see the package documentation.
var Analyzer = &analysis.Analyzer{
	Name: "detlint",
	Doc: `report determinism hazards in simulation kernel and node code

detlint flags code whose behaviour can differ between two runs with the same
seed: ranging over maps (unless the keys are collected and sorted), the real
clock and real timers, context deadlines, goroutines, channels and select,
the global math/rand source, crypto/rand, hash/maphash, sync.Pool, pointer
addresses used as map keys, and testify's Eventually/Never.

A finding that is deterministic after all is silenced, for exactly one line,
by a comment on that line or alone on the line directly above it:

	//detlint:allow <reason>

The reason is mandatory. Unknown, reasonless and unused directives are
reported too.`,
	Requires: []*analysis.Analyzer{inspect.Analyzer},
	Run:      run,
}

// allowHint ends every hazard message.
const allowHint = " or add //detlint:allow <why>"

// Report categories, one per kind of hazard.
const (
	catMapRange  = "maprange"
	catTime      = "time"
	catContext   = "context"
	catGoroutine = "goroutine"
	catChannel   = "channel"
	catRand      = "globalrand"
	catCrypto    = "cryptorand"
	catMaphash   = "maphash"
	catPool      = "syncpool"
	catPtrKey    = "pointerkey"
	catEventual  = "eventually"
	catDirective = "directive"
)

type rule struct {
	category string
	message  string
}

// funcRules maps package path and function name to the hazard of
// referring to that package-level function (calling it or taking its value).
var funcRules = map[string]map[string]rule{
	"time": {
		"Now":       {catTime, "time.Now reads the wall clock; read the node's simulated clock instead," + allowHint},
		"Since":     {catTime, "time.Since reads the wall clock; subtract simulated clock readings instead," + allowHint},
		"Until":     {catTime, "time.Until reads the wall clock; subtract simulated clock readings instead," + allowHint},
		"Sleep":     {catTime, "time.Sleep blocks in real time; set a simulated timer instead," + allowHint},
		"After":     {catTime, "time.After is a real-time timer; set a simulated timer instead," + allowHint},
		"AfterFunc": {catTime, "time.AfterFunc is a real-time timer that runs on its own goroutine; set a simulated timer instead," + allowHint},
		"NewTimer":  {catTime, "time.NewTimer is a real-time timer; set a simulated timer instead," + allowHint},
		"NewTicker": {catTime, "time.NewTicker is a real-time ticker; set a recurring simulated timer instead," + allowHint},
		"Tick":      {catTime, "time.Tick is a real-time ticker; set a recurring simulated timer instead," + allowHint},
	},
	"context": {
		"WithTimeout":       {catContext, "context.WithTimeout expires on the real clock; use a simulated timer that cancels the context," + allowHint},
		"WithTimeoutCause":  {catContext, "context.WithTimeoutCause expires on the real clock; use a simulated timer that cancels the context," + allowHint},
		"WithDeadline":      {catContext, "context.WithDeadline expires on the real clock; use a simulated timer that cancels the context," + allowHint},
		"WithDeadlineCause": {catContext, "context.WithDeadlineCause expires on the real clock; use a simulated timer that cancels the context," + allowHint},
		"AfterFunc":         {catGoroutine, "context.AfterFunc runs its function on a new goroutine; call it from the code that cancels instead," + allowHint},
	},
	"maps": {
		"Keys":   {catMapRange, "maps.Keys: iteration order is random; wrap it in slices.Sorted," + allowHint},
		"Values": {catMapRange, "maps.Values: iteration order is random; wrap it in slices.Sorted," + allowHint},
		"All":    {catMapRange, "maps.All: iteration order is random; iterate over slices.Sorted(maps.Keys(m))," + allowHint},
	},
}

// methodRules gives the hazard of referring to a method, by package path,
// receiver type name and method name.
var methodRules = map[methodKey]rule{
	{"sync", "WaitGroup", "Go"}:      {catGoroutine, "sync.WaitGroup.Go starts a goroutine, and goroutines are scheduled nondeterministically; run the work inline or as a simulation event," + allowHint},
	{"sync", "Map", "Range"}:         {catMapRange, "sync.Map.Range: iteration order is random; use a plain map and sort its keys," + allowHint},
	{"sync", "Pool", "Get"}:          {catPool, "sync.Pool.Get: whether it returns a recycled or a new object depends on the garbage collector; allocate, or keep an explicit free list," + allowHint},
	{"reflect", "Value", "MapKeys"}:  {catMapRange, "reflect.Value.MapKeys: the order of the keys is random; sort them," + allowHint},
	{"reflect", "Value", "MapRange"}: {catMapRange, "reflect.Value.MapRange: iteration order is random; sort the keys from MapKeys and index with them," + allowHint},
}

type methodKey struct{ path, recv, name string }

// randConstructors are the exported package-level functions of math/rand
// and math/rand/v2 that do not touch the global source; all the others do.
var randConstructors = map[string]bool{
	"New":        true,
	"NewSource":  true,
	"NewZipf":    true,
	"NewPCG":     true,
	"NewChaCha8": true,
}

// testifyPolls are testify's assertions that poll a condition in real time.
var testifyPolls = map[string]bool{
	"Eventually":       true,
	"Eventuallyf":      true,
	"EventuallyWithT":  true,
	"EventuallyWithTf": true,
	"Never":            true,
	"Neverf":           true,
}

const (
	msgMapRange  = "range over map: iteration order is random; sort the keys" + allowHint
	msgGo        = "go statement: goroutines are scheduled nondeterministically; run the work inline or as a simulation event," + allowHint
	msgChanType  = "channel type: channels need goroutines and block by the real scheduler; deliver messages and callbacks through the simulation," + allowHint
	msgMakeChan  = "make of a channel: channels need goroutines and block by the real scheduler; deliver messages and callbacks through the simulation," + allowHint
	msgSend      = "channel send: channels need goroutines and block by the real scheduler; deliver messages through the simulation," + allowHint
	msgRecv      = "channel receive: channels need goroutines and block by the real scheduler; deliver messages through the simulation," + allowHint
	msgRangeChan = "range over channel: channels need goroutines and block by the real scheduler; deliver messages through the simulation," + allowHint
	msgSelect    = "select statement: a ready case is chosen at random and readiness depends on the real scheduler; deliver messages and timers through the simulation," + allowHint
	msgCrypto    = "import of crypto/rand: OS entropy is never reproducible; draw from the seeded random stream," + allowHint
	msgMaphash   = "import of hash/maphash: its seed is random per process, so hashes differ between runs; use a fixed hash such as hash/fnv," + allowHint
	msgPool      = "sync.Pool: whether Get returns a recycled or a new object depends on the garbage collector; allocate, or keep an explicit free list," + allowHint
	msgPtrKey    = "map keyed by pointer: addresses differ between runs, so the keys cannot be sorted or printed reproducibly; key by a stable ID," + allowHint
	msgUintptr   = "pointer converted to uintptr: addresses differ between runs; use a stable ID," + allowHint
)

func run(pass *analysis.Pass) (any, error) {
	insp := pass.ResultOf[inspect.Analyzer].(*inspector.Inspector)
	w := &walker{pass: pass}
	for fileCur := range insp.Root().Children() {
		file := fileCur.Node().(*ast.File)
		if ast.IsGenerated(file) {
			continue
		}
		for cur := range fileCur.Preorder(nodeTypes...) {
			w.visit(cur)
		}
		w.directives(file)
	}
	w.flush()
	return nil, nil
}

var nodeTypes = []ast.Node{
	(*ast.ImportSpec)(nil),
	(*ast.Ident)(nil),
	(*ast.CallExpr)(nil),
	(*ast.RangeStmt)(nil),
	(*ast.GoStmt)(nil),
	(*ast.SelectStmt)(nil),
	(*ast.SendStmt)(nil),
	(*ast.UnaryExpr)(nil),
	(*ast.ChanType)(nil),
	(*ast.MapType)(nil),
}

type walker struct {
	pass       *analysis.Pass
	diags      []analysis.Diagnostic // findings, before directives are applied
	out        []analysis.Diagnostic // what flush reports
	allows     map[lineKey][]*allow  // //detlint:allow directives by the line they allow
	allowOrder []lineKey             // keys of allows in source order
}

// report records a finding; flush reports it unless a directive allows it.
func (w *walker) report(n ast.Node, category, message string) {
	w.diags = append(w.diags, analysisDiag(n, category, message))
}

func analysisDiag(n ast.Node, category, message string) analysis.Diagnostic {
	return analysis.Diagnostic{Pos: n.Pos(), End: n.End(), Category: category, Message: message}
}

func (w *walker) visit(cur inspector.Cursor) {
	info := w.pass.TypesInfo
	switch n := cur.Node().(type) {
	case *ast.ImportSpec:
		switch path, _ := strconv.Unquote(n.Path.Value); path {
		case "crypto/rand":
			w.report(n, catCrypto, msgCrypto)
		case "hash/maphash":
			w.report(n, catMaphash, msgMaphash)
		}

	case *ast.Ident:
		w.ident(cur, n)

	case *ast.CallExpr:
		w.call(n)

	case *ast.RangeStmt:
		switch under(info.TypeOf(n.X)).(type) {
		case *types.Map:
			if !w.orderFreeMapRange(cur, n) {
				w.report(rangeHead(n), catMapRange, msgMapRange)
			}
		case *types.Chan:
			w.report(rangeHead(n), catChannel, msgRangeChan)
		}

	case *ast.GoStmt:
		w.report(n, catGoroutine, msgGo)

	case *ast.SelectStmt:
		w.report(n, catChannel, msgSelect)

	case *ast.SendStmt:
		if !inSelectCase(cur) {
			w.report(n, catChannel, msgSend)
		}

	case *ast.UnaryExpr:
		if n.Op == token.ARROW && !inSelectCase(cur) {
			w.report(n, catChannel, msgRecv)
		}

	case *ast.ChanType:
		if cur.ParentEdgeKind() != edge.ChanType_Value { // report chan chan T once
			w.report(n, catChannel, msgChanType)
		}

	case *ast.MapType:
		if hasPointer(info.TypeOf(n.Key)) {
			w.report(n, catPtrKey, msgPtrKey)
		}
	}
}

// rangeHead is the part of a range statement a report points at: from
// "for" to the ranged expression, so that the body is not underlined.
func rangeHead(n *ast.RangeStmt) ast.Node {
	return span{n.For, n.X.End()}
}

// span is a range of source positions, usable as an ast.Node in reports.
type span struct{ pos, end token.Pos }

func (s span) Pos() token.Pos { return s.pos }
func (s span) End() token.Pos { return s.end }

// ident checks a use of a named function, method or type.
func (w *walker) ident(cur inspector.Cursor, id *ast.Ident) {
	info := w.pass.TypesInfo
	if inst, ok := info.Instances[id]; ok {
		// A generic map type instantiated with a pointer key, e.g. Set[*Node].
		if _, isNamed := types.Unalias(inst.Type).(*types.Named); isNamed {
			if m, ok := inst.Type.Underlying().(*types.Map); ok && hasPointer(m.Key()) {
				w.report(id, catPtrKey, msgPtrKey)
			}
		}
	}
	obj := info.Uses[id]
	if obj == nil || obj.Pkg() == nil {
		return
	}
	path := obj.Pkg().Path()
	switch obj := obj.(type) {
	case *types.TypeName:
		if path == "sync" && obj.Name() == "Pool" {
			w.report(id, catPool, msgPool)
		}

	case *types.Func:
		obj = obj.Origin()
		recv := obj.Signature().Recv()
		if recv == nil {
			w.funcUse(cur, id, obj)
			return
		}
		recvName := namedOf(recv.Type())
		if recvName == "" {
			return
		}
		if r, ok := methodRules[methodKey{path, recvName, obj.Name()}]; ok {
			w.report(id, r.category, r.message)
		}
		if recvName == "Assertions" && isTestify(path) && testifyPolls[obj.Name()] {
			w.report(id, catEventual, testifyMessage(obj.Pkg().Name(), obj.Name()))
		}
	}
}

// funcUse checks a reference id (at cur) to the package-level function fn.
func (w *walker) funcUse(cur inspector.Cursor, id *ast.Ident, fn *types.Func) {
	path, name := fn.Pkg().Path(), fn.Name()
	switch {
	case path == "math/rand" || path == "math/rand/v2":
		if token.IsExported(name) && !randConstructors[name] {
			w.report(id, catRand, path+"."+name+" uses the process-wide random source; draw from a seeded *rand.Rand (the node's or world's stream) instead,"+allowHint)
		}
		return
	case isTestify(path):
		if testifyPolls[name] {
			w.report(id, catEventual, testifyMessage(fn.Pkg().Name(), name))
		}
		return
	}
	r, ok := funcRules[path][name]
	if !ok {
		return
	}
	if path == "maps" && w.mapsIterOrdered(cur, name) {
		return
	}
	w.report(id, r.category, r.message)
}

func testifyMessage(pkg, name string) string {
	return pkg + "." + name + " polls a condition in real time on a goroutine; advance the simulation and assert directly," + allowHint
}

func isTestify(path string) bool {
	return path == "github.com/stretchr/testify/assert" || path == "github.com/stretchr/testify/require"
}

// call checks calls whose hazard shows only in the types of the operands.
func (w *walker) call(call *ast.CallExpr) {
	info := w.pass.TypesInfo
	if tv, ok := info.Types[call.Fun]; ok && tv.IsType() {
		// Conversion uintptr(unsafe.Pointer(p)).
		if len(call.Args) == 1 && isBasic(tv.Type, types.Uintptr) && isBasic(info.TypeOf(call.Args[0]), types.UnsafePointer) {
			w.report(call, catPtrKey, msgUintptr)
		}
		return
	}
	if b, ok := typeutil.Callee(info, call).(*types.Builtin); ok && b.Name() == "make" && len(call.Args) > 0 {
		// make(C) for a named channel type C; make(chan T) is reported at its ChanType.
		arg := ast.Unparen(call.Args[0])
		if _, lit := arg.(*ast.ChanType); !lit {
			if _, isChan := under(info.TypeOf(arg)).(*types.Chan); isChan {
				w.report(call, catChannel, msgMakeChan)
			}
		}
	}
}

// inSelectCase reports whether a send or receive is the communication
// of a select case; the select statement itself is reported instead.
func inSelectCase(cur inspector.Cursor) bool {
	for range 3 {
		if cur.ParentEdgeKind() == edge.CommClause_Comm {
			return true
		}
		cur = cur.Parent()
		switch cur.Node().(type) {
		case *ast.ParenExpr, *ast.ExprStmt, *ast.AssignStmt, *ast.SendStmt, *ast.UnaryExpr:
		default:
			return false
		}
	}
	return false
}

// under returns the underlying type of t. For a type parameter it returns
// the underlying type of the first type term of its constraint, or nil if
// there is none: where a range statement or make accepts a type parameter,
// the type checker has already required all terms to share that type
// (contrived intersections of unions aside).
func under(t types.Type) types.Type {
	if t == nil {
		return nil
	}
	if tp, ok := types.Unalias(t).(*types.TypeParam); ok {
		return firstTerm(tp.Constraint())
	}
	return t.Underlying()
}

func firstTerm(constraint types.Type) types.Type {
	iface, ok := constraint.Underlying().(*types.Interface)
	if !ok {
		return constraint.Underlying()
	}
	for e := range iface.EmbeddedTypes() {
		if u, ok := e.(*types.Union); ok {
			for i := range u.Len() {
				if t := firstTerm(u.Term(i).Type()); t != nil {
					return t
				}
			}
		} else if t := firstTerm(e); t != nil {
			return t
		}
	}
	return nil
}

// hasPointer reports whether values of t contain a memory address that
// takes part in == (a pointer or unsafe.Pointer, directly or in a field
// or array element).
func hasPointer(t types.Type) bool {
	if t == nil {
		return false
	}
	switch u := t.Underlying().(type) {
	case *types.Pointer:
		return true
	case *types.Basic:
		return u.Kind() == types.UnsafePointer
	case *types.Array:
		return hasPointer(u.Elem())
	case *types.Struct:
		for i := range u.NumFields() {
			if hasPointer(u.Field(i).Type()) {
				return true
			}
		}
	}
	return false
}

func isBasic(t types.Type, kind types.BasicKind) bool {
	if t == nil {
		return false
	}
	b, ok := t.Underlying().(*types.Basic)
	return ok && b.Kind() == kind
}

// namedOf returns the name of the named type t or *t, or "".
func namedOf(t types.Type) string {
	if p, ok := types.Unalias(t).(*types.Pointer); ok {
		t = p.Elem()
	}
	if n, ok := types.Unalias(t).(*types.Named); ok {
		return n.Obj().Name()
	}
	return ""
}
