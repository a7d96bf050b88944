// Package require is a minimal stand-in for github.com/stretchr/testify/require.
package require

import (
	"time"

	"github.com/stretchr/testify/assert"
)

type TestingT interface {
	Errorf(format string, args ...any)
	FailNow()
}

func Eventually(t TestingT, condition func() bool, waitFor, tick time.Duration, msgAndArgs ...any) {}

func EventuallyWithT(t TestingT, condition func(c *assert.CollectT), waitFor, tick time.Duration, msgAndArgs ...any) {
}

func Neverf(t TestingT, condition func() bool, waitFor, tick time.Duration, msg string, args ...any) {
}

func Equal(t TestingT, expected, actual any, msgAndArgs ...any) {}

type Assertions struct{ t TestingT }

func New(t TestingT) *Assertions { return &Assertions{t} }

func (a *Assertions) EventuallyWithT(condition func(c *assert.CollectT), waitFor, tick time.Duration, msgAndArgs ...any) {
}

func (a *Assertions) Equal(expected, actual any, msgAndArgs ...any) {}
