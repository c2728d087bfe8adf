// Package pgtest gives each test its own PostgreSQL database, cloned from a
// template that holds the migrated schema and the seeded reference data, so
// tests run in parallel against the real thing in milliseconds.
//
// It connects to the server named by TEST_DATABASE_URL, which `make test`
// sets to a throwaway cluster on tmpfs.
package pgtest

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"io/fs"
	"net/url"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver pgtestdb opens
	"github.com/peterldowns/pgtestdb"

	"ccgtracker/internal/org"
	"ccgtracker/internal/postgres"
	"ccgtracker/internal/refdata"
	"ccgtracker/migrations"
)

// New returns a pool on a fresh database with the schema and reference data,
// dropped when the test passes (kept for inspection when it fails).
func New(t testing.TB) *pgxpool.Pool {
	t.Helper()
	pool, _ := NewWithURL(t)
	return pool
}

// NewWithURL is New, also returning the database's connection string.
func NewWithURL(t testing.TB) (*pgxpool.Pool, string) {
	t.Helper()
	conf := serverConfig(t)
	db := pgtestdb.Custom(t, conf, migrator{})
	dbURL := db.URL()
	pool, err := pgxpool.New(context.Background(), dbURL)
	if err != nil {
		t.Fatalf("connect to test database: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool, dbURL
}

func serverConfig(t testing.TB) pgtestdb.Config {
	raw := os.Getenv("TEST_DATABASE_URL")
	if raw == "" {
		t.Fatalf("TEST_DATABASE_URL is not set: run the tests with `make test`, which starts a PostgreSQL cluster for them")
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("TEST_DATABASE_URL: %v", err)
	}
	pass, _ := u.User.Password()
	query := u.Query()
	user := u.User.Username()
	if q := query.Get("user"); q != "" {
		user = q
	}
	query.Del("user") // the template owner connects as pgtestdb's own role
	port := u.Port()
	if port == "" {
		port = "5432"
	}
	return pgtestdb.Config{
		DriverName: "pgx",
		Host:       u.Hostname(),
		Port:       port,
		User:       user,
		Password:   pass,
		Database:   "postgres",
		Options:    query.Encode(), // carries host=/socket/dir for a Unix socket
		// Our own pools may still hold a connection when the test ends.
		ForceTerminateConnections: true,
	}
}

// migrator builds the template: every migration, then the reference seed.
type migrator struct{}

// Hash names the template by the migrations and the reference data, so a
// change to either builds a new one.
func (migrator) Hash() (string, error) {
	h := sha256.New()
	for _, fsys := range []fs.FS{migrations.FS, refdata.FS()} {
		err := fs.WalkDir(fsys, ".", func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := fs.ReadFile(fsys, path)
			if err != nil {
				return err
			}
			h.Write([]byte(path))
			h.Write(b)
			return nil
		})
		if err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

func (migrator) Migrate(ctx context.Context, _ *sql.DB, conf pgtestdb.Config) error {
	pool, err := pgxpool.New(ctx, conf.URL())
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := postgres.MigrateUp(pool); err != nil {
		return err
	}
	return postgres.Tx(ctx, pool, func(tx pgx.Tx) error {
		_, err := org.SeedReference(ctx, tx, refdata.FS())
		return err
	})
}
