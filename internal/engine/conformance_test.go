package engine_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/inv-cli/inv/internal/backend"
	"github.com/inv-cli/inv/internal/backend/backendtest"
	"github.com/inv-cli/inv/internal/engine"
)

// The embedded engine passes the backend conformance suite on a real SQLite
// file.
func TestConformance(t *testing.T) {
	backendtest.Run(t, func(t *testing.T) backend.Backend {
		e, err := engine.Open(context.Background(), engine.Options{Path: filepath.Join(t.TempDir(), "inv.db"), Actor: "tester"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { e.Close() })
		return e
	})
}
