//go:build race

package archtest

// raceEnabled tells that this test binary was built with -race.
const raceEnabled = true
