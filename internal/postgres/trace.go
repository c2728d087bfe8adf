package postgres

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ErrPoolBusy is the error of a caller that waited AcquireTimeout for a
// connection and got none: every connection is in use. The server answers
// it with 503 and Retry-After.
var ErrPoolBusy = errors.New("every database connection is busy")

// tracer is the pool's pgx tracer. It bounds the wait for a connection:
// pgxpool uses the context TraceAcquireStart returns for the wait only, so
// a deadline put there ends the wait and not the query that follows. It
// also counts the statements of a context that carries a counter (see
// CountQueries), for request logs, tests and the benchmark.
type tracer struct{ acquireTimeout time.Duration }

type acquireKey struct{}

type acquireState struct {
	cancel context.CancelFunc
}

// TraceAcquireStart gives the wait for a connection its deadline.
func (t tracer) TraceAcquireStart(ctx context.Context, _ *pgxpool.Pool, _ pgxpool.TraceAcquireStartData) context.Context {
	if t.acquireTimeout <= 0 {
		return ctx
	}
	ctx, cancel := context.WithTimeoutCause(ctx, t.acquireTimeout, ErrPoolBusy)
	return context.WithValue(ctx, acquireKey{}, &acquireState{cancel: cancel})
}

// TraceAcquireEnd releases the wait's timer.
func (tracer) TraceAcquireEnd(ctx context.Context, _ *pgxpool.Pool, _ pgxpool.TraceAcquireEndData) {
	if st, ok := ctx.Value(acquireKey{}).(*acquireState); ok {
		st.cancel()
	}
}

// TraceQueryStart counts a statement.
func (tracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	if n, ok := ctx.Value(countKey{}).(*atomic.Int64); ok {
		n.Add(1)
	}
	return ctx
}

// TraceQueryEnd does nothing: only starts are counted.
func (tracer) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// TraceBatchStart counts a batch as the statements it sends.
func (tracer) TraceBatchStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceBatchStartData) context.Context {
	if n, ok := ctx.Value(countKey{}).(*atomic.Int64); ok && data.Batch != nil {
		n.Add(int64(data.Batch.Len()))
	}
	return ctx
}

// TraceBatchQuery does nothing: the batch was counted at its start.
func (tracer) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}

// TraceBatchEnd does nothing.
func (tracer) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

// TraceCopyFromStart counts a COPY as one statement.
func (tracer) TraceCopyFromStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceCopyFromStartData) context.Context {
	if n, ok := ctx.Value(countKey{}).(*atomic.Int64); ok {
		n.Add(1)
	}
	return ctx
}

// TraceCopyFromEnd does nothing.
func (tracer) TraceCopyFromEnd(context.Context, *pgx.Conn, pgx.TraceCopyFromEndData) {}

type countKey struct{}

// CountQueries returns a context whose statements, on pools opened by
// Open, are counted, and the function that reads the count so far.
func CountQueries(ctx context.Context) (context.Context, func() int64) {
	n := new(atomic.Int64)
	return context.WithValue(ctx, countKey{}, n), n.Load
}

// Unavailable reports whether err means the database could not be had
// rather than that something is wrong: the wait for a connection timed out
// (while the caller's own context ctx is still live), the server could not
// be reached, or the connection was lost mid-request (the server shut down
// or restarted, or an operator ended the session): a transaction cut off
// so never committed, and the request may be tried again later.
func Unavailable(ctx context.Context, err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
		return true
	}
	var connect *pgconn.ConnectError
	if errors.As(err, &connect) {
		return true
	}
	return connectionLost(err)
}

// connectionLost reports whether err is the loss of the connection to the
// server: its socket failed or closed, or the server said it was ending the
// session (SQLSTATE class 08, connection exception, or 57P01-57P05,
// shutdown, crash, not yet accepting connections, database dropped, idle).
func connectionLost(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return strings.HasPrefix(pgErr.Code, "08") || strings.HasPrefix(pgErr.Code, "57P")
	}
	var netErr net.Error
	return errors.As(err, &netErr) || errors.Is(err, pgconn.ErrConnClosed) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}
