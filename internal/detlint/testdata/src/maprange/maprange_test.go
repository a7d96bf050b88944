package maprange

import "testing"

func TestSum(t *testing.T) {
	want := map[string]int{"a": 1, "b": 2}
	for k, v := range want { // want `range over map`
		if got := want[k]; got != v {
			t.Errorf("%s: got %d, want %d", k, got, v)
		}
	}
}
