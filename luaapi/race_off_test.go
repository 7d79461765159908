//go:build !race

package luaapi_test

const raceDetector = false
