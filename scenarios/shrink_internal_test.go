package scenarios

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestDDMin(t *testing.T) {
	// The failure needs 3 and 7 together; ddmin finds exactly them.
	items := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
	calls := 0
	got := ddmin(items, func(xs []int) bool {
		calls++
		has := map[int]bool{}
		for _, x := range xs {
			has[x] = true
		}
		return has[3] && has[7]
	})
	assert.Equal(t, []int{3, 7}, got)
	assert.Less(t, calls, 40)
	assert.Equal(t, []int{}, ddmin(items, func([]int) bool { return true }))
	assert.Equal(t, [][]int{{0, 1, 2}, {3, 4, 5}, {6, 7, 8, 9}}, split(items, 3))
}
