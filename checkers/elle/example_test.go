package elle_test

import (
	"fmt"

	"github.com/sofasim/sofasim/checkers/elle"
)

// Read skew: T1 sees T0's append to y but not its append to x.
func ExampleCheck() {
	txns := []elle.Txn{
		{ID: 0, Process: 0, Status: elle.OK, Call: 1, Return: 3, Mops: []elle.Mop{
			{Kind: elle.Append, Key: "x", Value: "1"}, {Kind: elle.Append, Key: "y", Value: "1"}}},
		{ID: 1, Process: 1, Status: elle.OK, Call: 2, Return: 4, Mops: []elle.Mop{
			{Kind: elle.Read, Key: "x", List: []string{}}, {Kind: elle.Read, Key: "y", List: []string{"1"}}}},
	}
	res, err := elle.Check(txns, elle.Options{Model: elle.ListAppend, Consistency: "snapshot-isolation"})
	if err != nil {
		panic(err)
	}
	fmt.Println(res.Valid, res.Types, res.RuledOut)
	fmt.Println(res.Anomalies[0].Explanation)
	// Output:
	// false [G-single] [repeatable-read snapshot-isolation serializable strict-serializable]
	// T1 = [[:r x []] [:r y [1]]] (process 1, ok); T0 = [[:append x 1] [:append y 1]] (process 0, ok). T1 read x = [], without 1, which T0 appended next, so T1 precedes T0 (rw); T0 appended 1 to y and T1 read y = [1], which ends with it, so T0 precedes T1 (wr). So T1 precedes itself: a cycle with exactly one read-write anti-dependency (G-single, read skew).
}
