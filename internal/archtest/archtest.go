// Package archtest holds the tests that keep the repository's shape true rather than any one
// package's behaviour: the dependency rule between layers, the README's map of the packages,
// and the rule that only a test's own goroutine may end it. It has no code of its own; its
// tests read the whole module from its root.
package archtest

// root is the repository's root, relative to this package's directory, where `go test` runs
// its tests.
const root = "../.."
