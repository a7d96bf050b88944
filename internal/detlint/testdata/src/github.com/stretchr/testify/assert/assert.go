// Package assert is a minimal stand-in for github.com/stretchr/testify/assert.
package assert

import "time"

type TestingT interface {
	Errorf(format string, args ...any)
}

type CollectT struct{}

func Eventually(t TestingT, condition func() bool, waitFor, tick time.Duration, msgAndArgs ...any) bool {
	return true
}

func Eventuallyf(t TestingT, condition func() bool, waitFor, tick time.Duration, msg string, args ...any) bool {
	return true
}

func EventuallyWithT(t TestingT, condition func(c *CollectT), waitFor, tick time.Duration, msgAndArgs ...any) bool {
	return true
}

func EventuallyWithTf(t TestingT, condition func(c *CollectT), waitFor, tick time.Duration, msg string, args ...any) bool {
	return true
}

func Never(t TestingT, condition func() bool, waitFor, tick time.Duration, msgAndArgs ...any) bool {
	return true
}

func Neverf(t TestingT, condition func() bool, waitFor, tick time.Duration, msg string, args ...any) bool {
	return true
}

func Equal(t TestingT, expected, actual any, msgAndArgs ...any) bool { return true }

type Assertions struct{ t TestingT }

func New(t TestingT) *Assertions { return &Assertions{t} }

func (a *Assertions) Eventually(condition func() bool, waitFor, tick time.Duration, msgAndArgs ...any) bool {
	return true
}

func (a *Assertions) Never(condition func() bool, waitFor, tick time.Duration, msgAndArgs ...any) bool {
	return true
}

func (a *Assertions) Equal(expected, actual any, msgAndArgs ...any) bool { return true }
