package checkers

import (
	"fmt"
	"strconv"
	"strings"
)

// DescribeOp renders an operation's call and its result for people, e.g.
// `put("k1", "v3")` and `ok`, `get("k1")` and `"v3"`.
func DescribeOp(op Op) (call, result string) {
	in, out := op.Input, op.Output
	q := strconv.Quote
	switch in.Kind {
	case KindGet, KindDelete:
		call = fmt.Sprintf("%s(%s)", in.Kind, q(op.Key))
	case KindRead:
		call = "read()"
	case KindPut, KindAppend:
		call = fmt.Sprintf("%s(%s, %s)", in.Kind, q(op.Key), q(in.Value))
	case KindWrite:
		call = fmt.Sprintf("write(%s)", q(in.Value))
	case KindCAS:
		exp := q(in.Expected)
		if in.ExpectAbsent {
			exp = "absent"
		}
		call = fmt.Sprintf("cas(%s, %s → %s)", q(op.Key), exp, q(in.Value))
	default: // a domain operation: show what it carries
		args := []string{q(op.Key)}
		if in.Expected != "" {
			args = append(args, "expected "+q(in.Expected))
		}
		if in.Value != "" {
			args = append(args, q(in.Value))
		}
		call = fmt.Sprintf("%s(%s)", in.Kind, strings.Join(args, ", "))
	}
	switch {
	case op.Unknown:
		result = "unknown (timed out)"
	case out.Err != "":
		result = "error " + q(out.Err)
	case in.Kind == KindGet || in.Kind == KindRead:
		result = "absent"
		if out.Found {
			result = q(out.Value)
		}
	case in.Kind == KindCAS:
		result = "failed"
		if out.OK {
			result = "swapped"
		}
	case out.Value != "":
		result = q(out.Value)
	default:
		result = "ok"
	}
	return call, result
}
