// Package postgres opens the connection pool, runs transactions, applies the
// embedded migrations and checks that the schema is not behind the code.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/golang-migrate/migrate/v4"
	migratepgx "github.com/golang-migrate/migrate/v4/database/pgx/v5"
	"github.com/golang-migrate/migrate/v4/source/iofs"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"ccgtracker/internal/apperr"
	"ccgtracker/internal/paging"
	"ccgtracker/migrations"
)

// PoolOptions size a pool and bound how long anyone waits for it.
type PoolOptions struct {
	// MaxConns is the most connections the pool opens (0: pgx's default).
	MaxConns int32
	// AcquireTimeout bounds the wait for a free connection (0: no bound).
	// A caller that waits longer gets ErrPoolBusy, so a burst of requests
	// is refused with a 503 rather than queuing without end.
	AcquireTimeout time.Duration
}

// Open connects to the database at url and checks that it answers.
func Open(ctx context.Context, url string, opts PoolOptions) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	cfg.ConnConfig.Tracer = tracer{acquireTimeout: opts.AcquireTimeout}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	return pool, nil
}

// Querier is what both a pool and a transaction offer: domain functions that
// take one work inside or outside a caller's transaction alike.
type Querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
	CopyFrom(ctx context.Context, table pgx.Identifier, cols []string, src pgx.CopyFromSource) (int64, error)
}

// Tx runs fn in a transaction, committing when it returns nil and rolling
// back otherwise, so a change, its audit record and its jobs land together.
func Tx(ctx context.Context, pool *pgxpool.Pool, fn func(pgx.Tx) error) error {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after commit
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// NotFound turns pgx.ErrNoRows into a NotFound error with a safe message.
func NotFound(err error, format string, args ...any) error {
	if errors.Is(err, pgx.ErrNoRows) {
		e := apperr.New(apperr.NotFound, format, args...)
		e.Err = err
		return e
	}
	return err
}

// IsUniqueViolation reports whether err is a unique-constraint failure.
func IsUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505"
}

// newMigrate's second result closes the migrator and its connection.
func newMigrate(pool *pgxpool.Pool) (*migrate.Migrate, func() error, error) {
	src, err := iofs.New(migrations.FS, ".")
	if err != nil {
		return nil, nil, fmt.Errorf("read migrations: %w", err)
	}
	db := stdlib.OpenDBFromPool(pool)
	driver, err := migratepgx.WithInstance(db, &migratepgx.Config{})
	if err != nil {
		return nil, nil, errors.Join(fmt.Errorf("migration driver: %w", err), db.Close())
	}
	m, err := migrate.NewWithInstance("iofs", src, "pgx5", driver)
	if err != nil {
		return nil, nil, errors.Join(fmt.Errorf("migrate: %w", err), db.Close())
	}
	return m, func() error { return errors.Join(m.Close()) }, nil
}

// MigrateUp applies every migration not yet applied: the project's own,
// then River's (the job queue's tables), which River versions itself.
func MigrateUp(pool *pgxpool.Pool) (err error) {
	m, done, err := newMigrate(pool)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, done()) }()
	if err := m.Up(); err != nil && !errors.Is(err, migrate.ErrNoChange) {
		return fmt.Errorf("migrate up: %w", err)
	}
	rm, err := rivermigrate.New(riverpgxv5.New(pool), nil)
	if err != nil {
		return fmt.Errorf("river migrations: %w", err)
	}
	if _, err := rm.Migrate(context.Background(), rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("river migrate up: %w", err)
	}
	return nil
}

// MigrateDown reverts the last n migrations.
func MigrateDown(pool *pgxpool.Pool, n int) (err error) {
	m, done, err := newMigrate(pool)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, done()) }()
	if err := m.Steps(-n); err != nil {
		return fmt.Errorf("migrate down %d: %w", n, err)
	}
	return nil
}

// SchemaVersion returns the applied migration version and whether the last
// migration failed half-way (dirty). Version 0 means none applied.
func SchemaVersion(ctx context.Context, db Querier) (version uint, dirty bool, err error) {
	var exists bool
	if err := db.QueryRow(ctx, `SELECT to_regclass('schema_migrations') IS NOT NULL`).Scan(&exists); err != nil {
		return 0, false, fmt.Errorf("read schema version: %w", err)
	}
	if !exists {
		return 0, false, nil
	}
	var v int64
	err = db.QueryRow(ctx, `SELECT version, dirty FROM schema_migrations LIMIT 1`).Scan(&v, &dirty)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("read schema version: %w", err)
	}
	return uint(v), dirty, nil
}

// CheckSchema refuses a database whose schema is behind (or ahead of) the
// code, saying which command fixes it.
func CheckSchema(ctx context.Context, db Querier) error {
	want, err := migrations.Latest()
	if err != nil {
		return err
	}
	got, dirty, err := SchemaVersion(ctx, db)
	if err != nil {
		return err
	}
	switch {
	case dirty:
		return fmt.Errorf("the database schema is dirty at version %d (a migration failed half-way): fix it by hand, then run `tracker migrate up`", got)
	case got < want:
		return fmt.Errorf("the database schema is at version %d but this build needs %d: run `tracker migrate up`", got, want)
	case got > want:
		return fmt.Errorf("the database schema is at version %d, newer than this build (%d): run a newer build", got, want)
	}
	return nil
}

// Paged returns one page of rows and the total they come from. from is the
// FROM ... WHERE ... part both queries share; its placeholders take args,
// and LIMIT and OFFSET are appended after them.
func Paged[T any](ctx context.Context, db Querier, page paging.Page, columns, from, orderBy string, scan pgx.RowToFunc[T], args ...any) (paging.Result[T], error) {
	res := paging.Result[T]{Page: page}
	if err := db.QueryRow(ctx, `SELECT count(*) `+from, args...).Scan(&res.Total); err != nil {
		return res, fmt.Errorf("count: %w", err)
	}
	n := len(args)
	rows, err := db.Query(ctx, fmt.Sprintf(`SELECT %s %s ORDER BY %s LIMIT $%d OFFSET $%d`, columns, from, orderBy, n+1, n+2),
		append(args, page.Size, page.Offset())...)
	if err != nil {
		return res, err
	}
	if res.Rows, err = pgx.CollectRows(rows, scan); err != nil {
		return res, err
	}
	return res, nil
}
