//go:build race

package luaapi_test

// raceDetector: the race detector multiplies memory, so peak-RSS bounds
// are not checked under it.
const raceDetector = true
