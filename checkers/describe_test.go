package checkers

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestDescribeOp(t *testing.T) {
	for _, c := range []struct {
		op           Op
		call, result string
	}{
		{Op{Key: "k", Input: Input{Kind: "get"}, Output: Output{Value: "v", Found: true}}, `get("k")`, `"v"`},
		{Op{Key: "k", Input: Input{Kind: "get"}}, `get("k")`, "absent"},
		{Op{Key: "k", Input: Input{Kind: "put", Value: "v"}, Unknown: true}, `put("k", "v")`, "unknown (timed out)"},
		{Op{Key: "k", Input: Input{Kind: "cas", Value: "b", ExpectAbsent: true}, Output: Output{OK: true}}, `cas("k", absent → "b")`, "swapped"},
		{Op{Key: "k", Input: Input{Kind: "cas", Value: "b", Expected: "a"}}, `cas("k", "a" → "b")`, "failed"},
		{Op{Input: Input{Kind: "write", Value: "3"}, Output: Output{Err: "no leader"}}, `write("3")`, `error "no leader"`},
		{Op{Input: Input{Kind: "read"}, Output: Output{Value: "3", Found: true}}, "read()", `"3"`},
		{Op{Key: "k", Input: Input{Kind: "delete"}}, `delete("k")`, "ok"},
		{Op{Key: "svc", Input: Input{Kind: "publish", Value: "10.0.0.1"}, Output: Output{Value: "v7"}}, `publish("svc", "10.0.0.1")`, `"v7"`},
	} {
		call, result := DescribeOp(c.op)
		assert.Equal(t, c.call, call)
		assert.Equal(t, c.result, result)
	}
}
