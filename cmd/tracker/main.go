// Command tracker is the CCG Order Tracker: one binary that serves the web
// application and runs its chores.
//
//	tracker serve                 serve the web application
//	tracker migrate up            apply every pending migration
//	tracker migrate down N        revert the last N migrations
//	tracker seed [--demo]         load the reference data (and demo users)
//	tracker import ods FILE       update practices from an ODS epraccur file
//	tracker import list-sizes FILE  import a list-size extract (Patients Registered at a GP Practice)
//	tracker import continuity FILE  load Continuity Call-Off Agreement services
//	tracker returns issue YYYY-MM issue a month's returns to every CCG
//	tracker nightly [--date D]    run the nightly job once (for cron, or a missed night)
//	tracker version               print the version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"syscall"
	"time"
	_ "time/tzdata" // business dates are Europe/London wherever this runs

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"ccgtracker/internal/auth"
	"ccgtracker/internal/config"
	"ccgtracker/internal/dates"
	"ccgtracker/internal/jobs"
	"ccgtracker/internal/ledger"
	"ccgtracker/internal/logging"
	"ccgtracker/internal/nightly"
	"ccgtracker/internal/order"
	"ccgtracker/internal/org"
	"ccgtracker/internal/postgres"
	"ccgtracker/internal/refdata"
	"ccgtracker/internal/server"
	"ccgtracker/internal/tracker"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = ""

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "tracker:", err)
		os.Exit(1)
	}
}

const usage = `usage: tracker COMMAND

commands:
  serve                 serve the web application on ADDR
  migrate up            apply every pending migration
  migrate down N        revert the last N migrations
  seed [--demo] [--national [--scale N]]
                        load the reference data; --demo adds demo users; --national adds
                        the national data (every practice's continuity services and a year
                        of activations and cessations), ×N with --scale for benchmarks
  import ods FILE       update practices from an ODS practice file (epraccur format)
  import list-sizes FILE  import an NHS Digital list-size extract (gp-reg-pat-prac-all layout)
  import continuity FILE  load continuity agreement services (CSV: practice,supplier,item,start_date)
  returns issue YYYY-MM issue that month's returns to every active CCG (idempotent)
  nightly [--date YYYY-MM-DD]  run the nightly job once, for today or a missed night
  version               print the version

Configuration comes from the environment: see README.md.`

// run is the whole program, with its surroundings passed in so tests can
// start it on any port against any database.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return errors.New("no command given")
	}
	if args[0] == "version" {
		fmt.Fprintln(stdout, buildVersion())
		return nil
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	log := logging.New(stderr, cfg.LogLevel)

	switch args[0] {
	case "serve", "migrate", "seed", "import", "returns", "nightly":
	default:
		fmt.Fprintln(stderr, usage)
		return fmt.Errorf("unknown command %q", args[0])
	}
	if err := cfg.RequireDatabase(); err != nil {
		return err
	}
	pool, err := postgres.Open(ctx, cfg.DatabaseURL, postgres.PoolOptions{
		MaxConns: int32(cfg.DatabaseMaxConns), AcquireTimeout: cfg.DatabaseAcquireTimeout})
	if err != nil {
		return err
	}
	defer closePool(pool, poolCloseWait(cfg), log)

	switch args[0] {
	case "serve":
		return serve(ctx, cfg, pool, log, stdout)
	case "migrate":
		return migrate(pool, args[1:], stdout)
	case "seed":
		return seed(ctx, pool, args[1:], stdout)
	case "returns":
		return returns(ctx, pool, args[1:], stdout)
	case "nightly":
		return runNightly(ctx, pool, args[1:], stdout)
	default:
		return importFile(ctx, pool, args[1:], stdout)
	}
}

func buildVersion() string {
	if version != "" {
		return version
	}
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" {
				return s.Value
			}
		}
	}
	return "dev"
}

func serve(ctx context.Context, cfg config.Config, pool *pgxpool.Pool, log *slog.Logger, stdout io.Writer) error {
	if err := postgres.CheckSchema(ctx, pool); err != nil {
		return err
	}
	srv := server.New(cfg, pool, log)
	// stopJobs stops the background work within a deadline; nothing to
	// stop without jobs.
	stopJobs := func(context.Context) {}
	if cfg.RunJobs {
		// The jobs have a pool of their own, so a busy night cannot take the
		// connections pages need, nor a burst of requests stall the night.
		jobsPool, err := postgres.Open(ctx, cfg.DatabaseURL, postgres.PoolOptions{MaxConns: int32(cfg.JobsMaxConns)})
		if err != nil {
			return err
		}
		defer closePool(jobsPool, poolCloseWait(cfg), log)
		// River elects one leader among the instances to schedule the night;
		// every instance works jobs.
		client, err := jobs.NewClient(jobsPool, jobsConfig(cfg), log.With("component", "jobs"))
		if err != nil {
			return fmt.Errorf("jobs: %w", err)
		}
		if err := client.Start(context.WithoutCancel(ctx)); err != nil {
			return fmt.Errorf("start jobs: %w", err)
		}
		stopJobs = func(stopCtx context.Context) {
			if err := client.Stop(stopCtx); err != nil {
				log.Warn("stop jobs: cancelling the jobs still running", "err", err)
				_ = client.StopAndCancel(context.Background())
			}
		}
	}

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("ADDR: %w", err)
	}
	// Every request's context descends from base, so that once the grace
	// period is over, cancelling it ends the queries of requests that are
	// still running, and their connections come back to the pool.
	base, cancelRequests := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelRequests()
	httpServer := &http.Server{
		Handler:           srv,
		BaseContext:       func(net.Listener) context.Context { return base },
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		// Pages must be written within this; downloads move their own
		// deadline forward as they make progress (see server.streamWriter).
		WriteTimeout: 120 * time.Second,
		IdleTimeout:  120 * time.Second,
		ErrorLog:     slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	go housekeeping(ctx, pool, log)

	errc := make(chan error, 1)
	go func() { errc <- httpServer.Serve(ln) }()
	log.Info("serving", "addr", ln.Addr().String(), "base_url", cfg.BaseURL.String(), "version", buildVersion(),
		"max_conns", cfg.DatabaseMaxConns)
	fmt.Fprintf(stdout, "CCG Order Tracker listening on %s\n", ln.Addr())

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	// Stop taking new connections and jobs; let the requests and jobs in
	// flight finish, both within the one grace period, less a margin for
	// closing the pools, so the process ends within SHUTDOWN_TIMEOUT.
	log.Info("shutting down", "timeout", cfg.ShutdownTimeout.String())
	grace := cfg.ShutdownTimeout - 2*poolCloseWait(cfg)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	jobsStopped := make(chan struct{})
	go func() { stopJobs(shutdownCtx); close(jobsStopped) }()
	if err := httpServer.Shutdown(shutdownCtx); err != nil {
		// The grace period is over: cut the connections still open (a
		// download whose client stopped reading, say) and end the work of
		// their requests, so the process stops when it was told to.
		log.Warn("requests still running at the end of the grace period: closing them", "err", err)
		cancelRequests()
		_ = httpServer.Close()
	}
	<-jobsStopped
	log.Info("stopped")
	return nil
}

// poolCloseWait is how long closing each of the two pools may wait for
// connections still in use: their requests were cancelled, so they come
// back at once, unless a query ignores cancellation, which the process does
// not wait for.
func poolCloseWait(cfg config.Config) time.Duration { return min(time.Second, cfg.ShutdownTimeout/8) }

// closePool closes a pool, waiting at most wait for its connections.
func closePool(pool *pgxpool.Pool, wait time.Duration, log *slog.Logger) {
	done := make(chan struct{})
	go func() { pool.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(wait):
		log.Warn("database connections still in use at exit; leaving them to the operating system")
	}
}

// housekeeping deletes expired sessions and old sign-in failures hourly.
func housekeeping(ctx context.Context, pool *pgxpool.Pool, log *slog.Logger) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := auth.NewStore(pool, time.Now).Tidy(ctx, 24*time.Hour); err != nil {
				log.Warn("housekeeping", "err", err)
			}
		}
	}
}

func migrate(pool *pgxpool.Pool, args []string, stdout io.Writer) error {
	switch {
	case len(args) == 1 && args[0] == "up":
		if err := postgres.MigrateUp(pool); err != nil {
			return err
		}
	case len(args) == 2 && args[0] == "down":
		n, err := strconv.Atoi(args[1])
		if err != nil || n < 1 {
			return fmt.Errorf("migrate down: %q is not a number of migrations (1 or more)", args[1])
		}
		if err := postgres.MigrateDown(pool, n); err != nil {
			return err
		}
	default:
		return errors.New("usage: tracker migrate up | tracker migrate down N")
	}
	v, dirty, err := postgres.SchemaVersion(context.Background(), pool)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "schema at version %d (dirty: %v)\n", v, dirty)
	return nil
}

func seed(ctx context.Context, pool *pgxpool.Pool, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	demo := fs.Bool("demo", false, "also create the demo users (never in a real deployment)")
	national := fs.Bool("national", false, "also build the national data: every practice's continuity services and a year of activations and cessations (never in a real deployment)")
	scale := fs.Int("scale", 1, "with --national: a synthetic copy of the national data this many times over (benchmarks)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *scale < 1 || (*scale != 1 && !*national) {
		return errors.New("seed: --scale N needs --national and N of 1 or more")
	}
	if err := postgres.CheckSchema(ctx, pool); err != nil {
		return err
	}
	return postgres.Tx(ctx, pool, func(tx pgx.Tx) error {
		counts, err := org.SeedReference(ctx, tx, refdata.FS())
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "reference data added: %s\n", counts)
		if *national {
			n, err := ledger.SeedNational(ctx, tx, time.Now(), refdata.FS(), *scale, order.SeedNationalOrders)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "national service instances added (×%d): %d\n", *scale, n)
		}
		if !*demo {
			return nil
		}
		n, err := auth.SeedDemoUsers(ctx, tx, time.Now())
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "demo users added: %d\n", n)
		// The national data has the continuity services already; the demo's
		// would bring back those it ceased. Its returns are wanted either
		// way: make bench signs in to review them.
		if !*national {
			// Practices' GP systems continue under Continuity Call-Off
			// Agreements from the start of the framework.
			services, err := ledger.SeedDemoContinuity(ctx, tx, time.Now(), refdata.FS(), demoContinuityStart)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "demo continuity services added: %d\n", services)
		}
		// Last month's returns (due this month) and this month's, as the
		// nightly job would have issued them, so a buyer has one to fill in.
		this := tracker.PeriodOf(dates.Today(time.Now()))
		issued := 0
		for _, p := range []tracker.Period{this.Prev(), this} {
			n, err := tracker.IssueTx(ctx, tx, time.Now(), org.System(), p)
			if err != nil {
				return err
			}
			issued += n
		}
		fmt.Fprintf(stdout, "demo returns issued: %d\n", issued)
		return nil
	})
}

// demoContinuityStart is when the demo's continuity agreements begin: the
// GP IT Futures framework's first year.
var demoContinuityStart = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

func importFile(ctx context.Context, pool *pgxpool.Pool, args []string, stdout io.Writer) error {
	if len(args) != 2 || (args[0] != "ods" && args[0] != "continuity" && args[0] != "list-sizes") {
		return errors.New("usage: tracker import ods FILE | tracker import continuity FILE | tracker import list-sizes FILE")
	}
	if err := postgres.CheckSchema(ctx, pool); err != nil {
		return err
	}
	f, err := os.Open(args[1])
	if err != nil {
		return err
	}
	defer func() { _ = f.Close() }() // only read
	if args[0] == "continuity" {
		report, err := ledger.NewStore(pool, time.Now).ImportContinuity(ctx, org.System(), f)
		if err != nil {
			return err
		}
		fmt.Fprint(stdout, report.Summary())
		return nil
	}
	name := filepath.Base(args[1]) // the history of imports names the file
	if args[0] == "list-sizes" {
		report, err := org.NewStore(pool, time.Now).ImportListSizes(ctx, org.System(), name, f)
		if err != nil {
			return err
		}
		fmt.Fprint(stdout, report.Summary())
		return nil
	}
	// Through the tracker: the import's changes become the CCGs' proposals.
	report, _, proposals, err := tracker.NewStore(pool, time.Now).ImportODS(ctx, org.System(), name, f)
	if err != nil {
		return err
	}
	fmt.Fprint(stdout, report.Summary())
	fmt.Fprintf(stdout, "  proposals to CCGs:   %d\n", proposals)
	return nil
}

func returns(ctx context.Context, pool *pgxpool.Pool, args []string, stdout io.Writer) error {
	if len(args) != 2 || args[0] != "issue" {
		return errors.New("usage: tracker returns issue YYYY-MM")
	}
	p, ok := tracker.ParsePeriod(args[1])
	if !ok {
		return fmt.Errorf("returns issue: %q is not a month like 2026-11", args[1])
	}
	if err := postgres.CheckSchema(ctx, pool); err != nil {
		return err
	}
	n, err := tracker.NewStore(pool, time.Now).Issue(ctx, org.System(), p)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "returns issued for %s: %d\n", p.Name(), n)
	return nil
}

// jobsConfig is the background work's configuration: the nightly time and,
// when an SMTP host is set, the mailer.
func jobsConfig(cfg config.Config) jobs.Config {
	c := jobs.Config{NightlyAt: jobs.DailyAt{Hour: cfg.NightlyHour, Minute: cfg.NightlyMinute}, BaseURL: cfg.BaseURL.String()}
	if cfg.SMTPHost != "" {
		c.Mailer = jobs.SMTP{Host: cfg.SMTPHost, Port: cfg.SMTPPort, Username: cfg.SMTPUsername, Password: cfg.SMTPPassword, From: cfg.SMTPFrom}
	}
	return c
}

func runNightly(ctx context.Context, pool *pgxpool.Pool, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("nightly", flag.ContinueOnError)
	date := fs.String("date", "", "the London business day to run, YYYY-MM-DD (default: today)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := postgres.CheckSchema(ctx, pool); err != nil {
		return err
	}
	var day *time.Time
	if *date != "" {
		d, msg := dates.ParseISO(*date)
		if msg != "" {
			return fmt.Errorf("nightly --date: %s", msg)
		}
		day = &d
	}
	res, err := nightly.NewStore(pool, time.Now).Run(ctx, org.System(), day)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "nightly run for %s: %d returns issued, %d flagged late, %d reminders queued, %d services ended\n",
		dates.Long(res.BusinessDate), res.Issued, res.Flagged, res.Reminders, res.Ceased)
	return nil
}
