package web_test

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"tandem/internal/demo"
	"tandem/internal/server"
	"tandem/internal/store"
	"tandem/internal/store/storetest"
	"tandem/internal/testkit"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if demoTemplate.dir != "" {
		os.RemoveAll(demoTemplate.dir)
	}
	os.Exit(code)
}

// demoTemplate is the demo's data (demo.SeedWith without the AI history) on SQLite,
// seeded once per test binary: its database file and its attachments directory.
var demoTemplate struct {
	once sync.Once
	dir  string // tandem.db and files/
	info *demo.Info
	err  error
}

// seededDemo returns a desk serving its own copy of the demo's data, and what seeding
// it returned. The demo is seeded once per test binary (each seeding is thousands of
// requests, tens of seconds under -race) and every caller gets a copy of the database
// and the attachments on a server of its own, as 'tandem demo' serves its data again
// after a restart: tests may change what they like. The sharing between the demo's
// accounts is on one server (local:// partners), so no address of the seeding server
// is left in the data.
func seededDemo(t *testing.T) (*testkit.Desk, *demo.Info) {
	t.Helper()
	demoTemplate.once.Do(func() { demoTemplate.dir, demoTemplate.info, demoTemplate.err = seedDemoTemplate(t) })
	if demoTemplate.err != nil {
		t.Fatalf("seed the demo: %v", demoTemplate.err)
	}
	db := storetest.OpenCopy(t, filepath.Join(demoTemplate.dir, "tandem.db"))
	files := filepath.Join(t.TempDir(), "files")
	if err := os.CopyFS(files, os.DirFS(filepath.Join(demoTemplate.dir, "files"))); err != nil {
		t.Fatalf("copy the demo's attachments: %v", err)
	}
	desk := testkit.StartDB(t, db, func(c *server.Config) { c.FilesDir = files })
	return desk, demoTemplate.info
}

// seedDemoTemplate seeds the demo on a server of its own, stops it and closes its
// database, and returns the directory holding both.
func seedDemoTemplate(t *testing.T) (string, *demo.Info, error) {
	dir, err := os.MkdirTemp("", "tandem-web-demo-")
	if err != nil {
		return "", nil, err
	}
	files := filepath.Join(dir, "files")
	if err := os.Mkdir(files, 0o755); err != nil {
		return dir, nil, err
	}
	db, err := store.Open(context.Background(), store.Options{Path: filepath.Join(dir, "tandem.db")})
	if err != nil {
		return dir, nil, err
	}
	desk := testkit.StartDB(t, db, func(c *server.Config) { c.FilesDir = files })
	info, err := demo.SeedWith(context.Background(), desk.Srv, desk.Addr, demo.Options{SkipAI: true})
	desk.Stop()
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return dir, info, err
	}
	// Opening the database again refreshes its planner statistics (store.Open's PRAGMA
	// optimize: the seeding filled tables that were empty when they were last
	// analyzed), here once, so that the copies open with fresh statistics. Without
	// this every copy ran ANALYZE and reloaded its samples on open: some 4 CPU-seconds
	// under -race each, a sixth of the package's CPU.
	db, err = store.Open(context.Background(), store.Options{Path: filepath.Join(dir, "tandem.db")})
	if err != nil {
		return dir, info, err
	}
	return dir, info, db.Close()
}
