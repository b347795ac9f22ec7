package personalize_test

import (
	"os"
	"testing"
)

var root string

func fixtureRoot() string { return root }

func TestMain(m *testing.M) {
	d, err := os.MkdirTemp("", "personalize-test-")
	if err != nil {
		panic(err)
	}
	root = d
	code := m.Run()
	os.RemoveAll(d)
	os.Exit(code)
}
