// Package testifyuse exercises testify's polling assertions in tests.
package testifyuse
