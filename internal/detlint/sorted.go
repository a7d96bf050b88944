package detlint

import (
	"go/ast"
	"go/token"
	"go/types"

	"golang.org/x/tools/go/ast/edge"
	"golang.org/x/tools/go/ast/inspector"
	"golang.org/x/tools/go/types/typeutil"
)

// This file recognises the map iterations whose order cannot show:
//
//	for range m { ... }                       // no key or value
//	for k, v := range m {                     // only appends k, v (or plain
//		keys = append(keys, k)                // values built from them)
//	}                                         // to slices that are sorted
//	sort.Strings(keys)                        // later in the same function
//
//	slices.Sorted(maps.Keys(m))               // and SortedFunc, SortedStableFunc
//	keys := slices.Collect(maps.Keys(m))      // then sorted later in the
//	slices.Sort(keys)                         // same function
//	maps.Collect(maps.All(m)), maps.Insert(dst, maps.All(m))

// orderFreeMapRange reports whether the range statement over a map is one
// of the allowed forms.
func (w *walker) orderFreeMapRange(cur inspector.Cursor, rs *ast.RangeStmt) bool {
	if rs.Tok == token.ASSIGN {
		// for k = range m leaves the last key, a random one, in k.
		return isBlank(rs.Key) && isBlank(rs.Value)
	}
	loopVars := make(map[types.Object]bool)
	for _, e := range []ast.Expr{rs.Key, rs.Value} {
		if id, ok := e.(*ast.Ident); ok && id.Name != "_" {
			if obj := w.pass.TypesInfo.ObjectOf(id); obj != nil {
				loopVars[obj] = true
			}
		}
	}
	if len(loopVars) == 0 {
		return true // the body cannot tell the iterations apart
	}
	targets := w.appendOnlyBody(rs.Body, loopVars)
	if len(targets) == 0 {
		return false
	}
	fn := enclosingFunc(cur)
	for s := range targets {
		if !w.sortedAfter(fn, s, rs.End()) {
			return false
		}
	}
	return true
}

// appendOnlyBody returns the slice variables appended to when every
// statement of body has the form s = append(s, e...), with each e built
// only from the loop variables, constants and plain field reads; otherwise
// it returns nil.
func (w *walker) appendOnlyBody(body *ast.BlockStmt, loopVars map[types.Object]bool) map[types.Object]bool {
	info := w.pass.TypesInfo
	if len(body.List) == 0 {
		return nil
	}
	targets := make(map[types.Object]bool)
	for _, stmt := range body.List {
		as, ok := stmt.(*ast.AssignStmt)
		if !ok || as.Tok != token.ASSIGN || len(as.Lhs) != 1 || len(as.Rhs) != 1 {
			return nil
		}
		lhs, ok := as.Lhs[0].(*ast.Ident)
		if !ok {
			return nil
		}
		s, ok := info.Uses[lhs].(*types.Var)
		if !ok || s.IsField() || loopVars[s] {
			return nil
		}
		call, ok := ast.Unparen(as.Rhs[0]).(*ast.CallExpr)
		if !ok || call.Ellipsis.IsValid() || len(call.Args) < 2 {
			return nil
		}
		if b, ok := typeutil.Callee(info, call).(*types.Builtin); !ok || b.Name() != "append" {
			return nil
		}
		if first, ok := ast.Unparen(call.Args[0]).(*ast.Ident); !ok || info.Uses[first] != s {
			return nil
		}
		for _, e := range call.Args[1:] {
			if !w.plainValue(e, loopVars) {
				return nil
			}
		}
		targets[s] = true
	}
	return targets
}

// plainValue reports whether evaluating e has no effects and reads only
// the loop variables, constants and fields: identifiers, literals,
// composite literals, field selections, conversions, operators, indexing.
func (w *walker) plainValue(e ast.Expr, loopVars map[types.Object]bool) bool {
	info := w.pass.TypesInfo
	if tv, ok := info.Types[e]; ok && tv.Value != nil {
		return true // constant
	}
	switch e := ast.Unparen(e).(type) {
	case *ast.Ident:
		return loopVars[info.Uses[e]]
	case *ast.BasicLit:
		return true
	case *ast.SelectorExpr:
		sel := info.Selections[e]
		return sel != nil && sel.Kind() == types.FieldVal && w.plainValue(e.X, loopVars)
	case *ast.StarExpr:
		return w.plainValue(e.X, loopVars)
	case *ast.UnaryExpr:
		return e.Op != token.ARROW && w.plainValue(e.X, loopVars)
	case *ast.BinaryExpr:
		return w.plainValue(e.X, loopVars) && w.plainValue(e.Y, loopVars)
	case *ast.IndexExpr:
		return w.plainValue(e.X, loopVars) && w.plainValue(e.Index, loopVars)
	case *ast.CallExpr:
		tv, ok := info.Types[e.Fun]
		return ok && tv.IsType() && len(e.Args) == 1 && w.plainValue(e.Args[0], loopVars)
	case *ast.CompositeLit:
		_, isStruct := under(info.TypeOf(e)).(*types.Struct)
		for _, elt := range e.Elts {
			if kv, ok := elt.(*ast.KeyValueExpr); ok {
				if !isStruct && !w.plainValue(kv.Key, loopVars) {
					return false
				}
				elt = kv.Value
			}
			if !w.plainValue(elt, loopVars) {
				return false
			}
		}
		return true
	}
	return false
}

// mapsIterOrdered reports whether the use cur of maps.Keys, maps.Values
// or maps.All (named name) is the function of a call whose results are
// put in order or into another map.
func (w *walker) mapsIterOrdered(cur inspector.Cursor, name string) bool {
	info := w.pass.TypesInfo
	if cur.ParentEdgeKind() == edge.SelectorExpr_Sel {
		cur = cur.Parent()
	}
	if k := cur.ParentEdgeKind(); k == edge.IndexExpr_X || k == edge.IndexListExpr_X {
		cur = cur.Parent() // explicit instantiation, maps.Keys[M]
	}
	if cur.ParentEdgeKind() != edge.CallExpr_Fun {
		return false // a function value, not a call
	}
	outer, kind, index := parentSkippingParens(cur.Parent())
	if kind != edge.CallExpr_Args {
		return false
	}
	fn, ok := typeutil.Callee(info, outer.Node().(*ast.CallExpr)).(*types.Func)
	if !ok || fn.Pkg() == nil {
		return false
	}
	switch path, callee := fn.Pkg().Path(), fn.Name(); {
	case path == "slices" && index == 0 && (callee == "Sorted" || callee == "SortedFunc" || callee == "SortedStableFunc"):
		return true
	case path == "maps" && name == "All" && (callee == "Collect" && index == 0 || callee == "Insert" && index == 1):
		return true
	case path == "slices" && callee == "Collect" && name != "All":
		// keys := slices.Collect(maps.Keys(m)); slices.Sort(keys)
		stmt, kind, _ := parentSkippingParens(outer)
		var lhs *ast.Ident
		switch kind {
		case edge.AssignStmt_Rhs:
			if as := stmt.Node().(*ast.AssignStmt); len(as.Lhs) == 1 && len(as.Rhs) == 1 {
				lhs, _ = as.Lhs[0].(*ast.Ident)
			}
		case edge.ValueSpec_Values:
			if vs := stmt.Node().(*ast.ValueSpec); len(vs.Names) == 1 && len(vs.Values) == 1 {
				lhs = vs.Names[0]
			}
		}
		if lhs == nil {
			return false
		}
		s, ok := info.ObjectOf(lhs).(*types.Var)
		return ok && w.sortedAfter(enclosingFunc(cur), s, stmt.Node().End())
	}
	return false
}

// parentSkippingParens returns the parent of the expression at cur,
// skipping enclosing parentheses, with the edge and index that lead to it.
func parentSkippingParens(cur inspector.Cursor) (inspector.Cursor, edge.Kind, int) {
	for cur.ParentEdgeKind() == edge.ParenExpr_X {
		cur = cur.Parent()
	}
	kind, index := cur.ParentEdge()
	return cur.Parent(), kind, index
}

// enclosingFunc returns the body of the innermost function around cur, or nil.
func enclosingFunc(cur inspector.Cursor) *ast.BlockStmt {
	for c := range cur.Enclosing((*ast.FuncDecl)(nil), (*ast.FuncLit)(nil)) {
		switch fn := c.Node().(type) {
		case *ast.FuncDecl:
			return fn.Body
		case *ast.FuncLit:
			return fn.Body
		}
	}
	return nil
}

// sortedAfter reports whether body, not counting nested function literals,
// sorts the slice variable s after position pos.
func (w *walker) sortedAfter(body *ast.BlockStmt, s types.Object, pos token.Pos) bool {
	if body == nil {
		return false
	}
	found := false
	ast.Inspect(body, func(n ast.Node) bool {
		if found {
			return false
		}
		switch n := n.(type) {
		case *ast.FuncLit:
			return false
		case *ast.CallExpr:
			if n.Pos() > pos && w.sortTarget(n) == s {
				found = true
			}
		}
		return true
	})
	return found
}

// sortTarget returns the variable that call sorts in place, or nil.
// It knows sort.Strings, Ints, Float64s, Slice, SliceStable, Sort, Stable
// and slices.Sort, SortFunc, SortStableFunc; the argument of sort.Sort and
// sort.Stable may be wrapped in conversions and sort.Reverse.
func (w *walker) sortTarget(call *ast.CallExpr) types.Object {
	info := w.pass.TypesInfo
	fn, ok := typeutil.Callee(info, call).(*types.Func)
	if !ok || fn.Pkg() == nil || len(call.Args) == 0 || fn.Signature().Recv() != nil {
		return nil
	}
	arg := call.Args[0]
	switch fn.Pkg().Path() {
	case "sort":
		switch fn.Name() {
		case "Strings", "Ints", "Float64s", "Slice", "SliceStable":
		case "Sort", "Stable":
			arg = w.unwrapSortInterface(arg)
		default:
			return nil
		}
	case "slices":
		switch fn.Name() {
		case "Sort", "SortFunc", "SortStableFunc":
		default:
			return nil
		}
	default:
		return nil
	}
	if id, ok := ast.Unparen(arg).(*ast.Ident); ok {
		return info.Uses[id]
	}
	return nil
}

// unwrapSortInterface strips conversions such as sort.StringSlice(keys)
// and calls of sort.Reverse from the argument of sort.Sort.
func (w *walker) unwrapSortInterface(e ast.Expr) ast.Expr {
	info := w.pass.TypesInfo
	for {
		call, ok := ast.Unparen(e).(*ast.CallExpr)
		if !ok || len(call.Args) != 1 {
			return e
		}
		if tv, ok := info.Types[call.Fun]; ok && tv.IsType() {
			e = call.Args[0]
			continue
		}
		if fn, ok := typeutil.Callee(info, call).(*types.Func); ok && fn.Pkg() != nil && fn.Pkg().Path() == "sort" && fn.Name() == "Reverse" {
			e = call.Args[0]
			continue
		}
		return e
	}
}

func isBlank(e ast.Expr) bool {
	id, ok := e.(*ast.Ident)
	return e == nil || ok && id.Name == "_"
}
