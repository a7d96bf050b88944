// Package directives exercises //detlint:allow.
package directives

import "time"

func aboveAndTrailing(m map[string]int) int {
	n := 0
	//detlint:allow summing is independent of the order
	for _, v := range m {
		n += v
	}
	for _, v := range m { //detlint:allow summing is independent of the order
		n += v
	}
	//detlint:allow	a tab separates the reason
	_ = time.Now()
	return n
}

func exactlyThatLine(d time.Duration) {
	//detlint:allow the directive covers the next line only
	a := time.Now()
	b := time.Now() // want `time.Now reads the wall clock`

	c := time.Now() //detlint:allow a trailing directive covers its own line only
	_ = time.Now()  // want `time.Now reads the wall clock`

	<-time.After(d) //detlint:allow covers every finding on the line
	_, _, _ = a, b, c

	//detlint:allow a directive two lines up covers nothing // want `unused //detlint:allow`

	_ = time.Now() // want `time.Now reads the wall clock`
}

func multiLine(d time.Duration) {
	_ = []time.Time{
		time.Now(), //detlint:allow an element of a longer statement
		time.Unix(0, 0),
	}
}

func malformed(m map[string]int) {
	// want +1 `^//detlint:allow needs a reason: write //detlint:allow <why this is deterministic>$`
	//detlint:allow
	for range m {
	}
	// want +1 `needs a reason`
	//detlint:allow
	_ = time.Now() // want `time.Now reads the wall clock`
	_ = time.Now() /* want "time.Now reads the wall clock" "needs a reason" */ //detlint:allow

	// want +1 `^unknown directive //detlint:alow; the only one is //detlint:allow <reason>$`
	//detlint:alow typo
	_ = time.Now() // want `time.Now reads the wall clock`

	// want +1 `^unused //detlint:allow: nothing on this line is a determinism hazard; remove the directive$`
	//detlint:allow nothing to allow below
	n := len(m)
	_ = n /* want "unused //detlint:allow" */ //detlint:allow nothing to allow here
}

func notDirectives() {
	_ = time.Now() // detlint:allow with a space is an ordinary comment // want `time.Now reads the wall clock`
	_ = time.Now() /*detlint:allow block comments are not directives*/ // want `time.Now reads the wall clock`
}
