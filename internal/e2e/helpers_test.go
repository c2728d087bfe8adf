package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"ccgtracker/internal/auth"
	"ccgtracker/internal/config"
	"ccgtracker/internal/ledger"
	"ccgtracker/internal/postgres"
	"ccgtracker/internal/postgres/pgtest"
	"ccgtracker/internal/refdata"
	"ccgtracker/internal/server"
)

// newApp starts the tracker on a fresh database with the demo users and
// returns its base address. env overrides configuration variables; opts
// change the server's defaults (server.WithClock for a test's own clock).
func newApp(t *testing.T, env map[string]string, opts ...server.Option) string {
	t.Helper()
	base, _ := newAppWithPool(t, env, opts...)
	return base
}

// newAppWithPool is newApp, also returning the database for the test to
// set the scene in (issue a return, complete an order).
func newAppWithPool(t *testing.T, env map[string]string, opts ...server.Option) (string, *pgxpool.Pool) {
	t.Helper()
	base, pool, _ := newAppWithServer(t, env, opts...)
	return base, pool
}

// newAppWithServer is newAppWithPool, also returning the server, whose
// route table a test may walk.
func newAppWithServer(t *testing.T, env map[string]string, opts ...server.Option) (string, *pgxpool.Pool, *server.Server) {
	t.Helper()
	ctx := context.Background()
	pool := pgtest.New(t)
	// What `tracker seed --demo` adds: the demo users and the continuity
	// agreements of every practice's GP system.
	if err := postgres.Tx(ctx, pool, func(tx pgx.Tx) error {
		if _, err := auth.SeedDemoUsers(ctx, tx, time.Now()); err != nil {
			return err
		}
		_, err := ledger.SeedDemoContinuity(ctx, tx, time.Now(), refdata.FS(), time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC))
		return err
	}); err != nil {
		t.Fatalf("seed demo data: %v", err)
	}

	// The server's log is kept and shown only when the test fails. This
	// cleanup is registered first so that it runs last, after the server
	// has stopped writing.
	logs := &syncBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})

	// The listener exists before the configuration so that BASE_URL (and
	// with it the set-password links) names the real address. It is
	// 127.0.0.1, the origin the browser sends, so the cross-origin check
	// lets the forms through.
	ts := httptest.NewUnstartedServer(nil)
	base := "http://" + ts.Listener.Addr().String()
	vars := map[string]string{"BASE_URL": base}
	for k, v := range env {
		vars[k] = v
	}
	cfg, err := config.Load(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	srv := server.New(cfg, pool, slog.New(slog.NewTextHandler(logs, nil)), opts...)
	ts.Config.Handler = srv
	ts.Start()
	t.Cleanup(ts.Close)
	return base, pool, srv
}

// syncBuffer is a bytes.Buffer that the server's goroutines can share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// newBrowser starts a headless Chromium with a fresh profile and returns
// the context of its tab. Every action in the test shares one deadline, so
// a page that never shows what the test waits for fails the test instead
// of hanging it.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	return newBrowserFor(t, 3*time.Minute)
}

// newBrowserFor is newBrowser with a deadline of its own, for a test
// that checks many pages.
func newBrowserFor(t *testing.T, deadline time.Duration) context.Context {
	t.Helper()
	ctx := newWindow(t, deadline)
	// The window's own viewport is smaller than the window (577 px tall
	// at 720): emulate the desktop size exactly, as the checks do.
	if _, err := chromedp.Run(ctx, chromedp.EmulateViewport(desktopWidth, desktopHeight)); err != nil {
		t.Fatalf("size the window: %v", err)
	}
	return ctx
}

// newWindow starts the browser with its tab at the window's own size.
func newWindow(t *testing.T, deadline time.Duration) context.Context {
	t.Helper()
	path := os.Getenv("CHROMIUM_PATH")
	if path == "" {
		path = "/usr/bin/chromium"
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("Chromium is needed for the browser tests: %v (install Debian's chromium, or set CHROMIUM_PATH)", err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.NoSandbox,  // the tests may run as root, where the sandbox refuses to start
		chromedp.DisableGPU, // there is no GPU
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		// The desktop size axe-core checks every page at (with 320×640):
		// the header menu and the tables show as they do for most people.
		chromedp.WindowSize(desktopWidth, desktopHeight),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	tabCtx, cancelTab := chromedp.NewContext(allocCtx)
	t.Cleanup(cancelTab)
	// Start the browser with a context that has no deadline, so that the
	// deadline below limits the actions and not the life of the browser.
	if err := chromedp.Do(tabCtx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	ctx, cancel := context.WithTimeout(tabCtx, deadline)
	t.Cleanup(cancel)
	return ctx
}

// newTab opens another tab in the browser of ctx, in a browser context
// of its own (its own cookies, as a separate profile would have), so that
// several people can be signed in at once in one browser.
func newTab(t *testing.T, ctx context.Context) context.Context {
	t.Helper()
	tabCtx, cancel := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(tabCtx); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	if _, err := chromedp.Run(tabCtx, chromedp.EmulateViewport(desktopWidth, desktopHeight)); err != nil {
		t.Fatalf("size the tab: %v", err)
	}
	return tabCtx
}

// visit opens url and returns the HTTP status of the document (after any
// redirect). Like every helper that leads to a page, it has axe-core check
// the page at both sizes (checkVisited).
func visit(t *testing.T, ctx context.Context, url string) int64 {
	t.Helper()
	resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(url))
	if err != nil {
		t.Fatalf("open %s: %v", url, err)
	}
	checkVisited(t, ctx)
	return resp.Status
}

// click clicks the first element matching css and waits for the page it
// leads to; it returns that page's HTTP status (after any redirect). The
// page is checked by axe-core at both sizes (checkVisited).
func click(t *testing.T, ctx context.Context, css string) int64 {
	t.Helper()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(css)))
	if err != nil {
		t.Fatalf("click %s on %s: %v", css, location(t, ctx), err)
	}
	checkVisited(t, ctx)
	return resp.Status
}

// fill sets the value of the form field with this id (an input or a
// select), as typing or choosing would, and checks that it took.
//
// It does not use chromedp.SetValue, which cannot empty a field: cdproto
// leaves an argument whose JSON is "" out of the call (omitempty), so the
// page receives undefined and the field reads "undefined".
func fill(t *testing.T, ctx context.Context, id, value string) {
	t.Helper()
	got, err := chromedp.Run(ctx, chromedp.Evaluate[*string](`(() => {
		const e = document.getElementById(`+jsString(id)+`)
		if (!e) return null
		e.value = `+jsString(value)+`
		e.dispatchEvent(new Event('input', {bubbles: true}))
		e.dispatchEvent(new Event('change', {bubbles: true}))
		return e.value
	})()`))
	switch {
	case err != nil:
		t.Fatalf("fill #%s: %v", id, err)
	case got == nil:
		t.Fatalf("%s: there is no field #%s to fill", location(t, ctx), id)
	case *got != value:
		// A select keeps no value when no option has the new one: catch
		// a typo here rather than as a puzzling error from the server.
		t.Fatalf("#%s has the value %q after filling in %q", id, *got, value)
	}
}

// location is the address of the page the tab shows.
func location(t *testing.T, ctx context.Context) string {
	t.Helper()
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatalf("read the location: %v", err)
	}
	return loc
}

// jsString quotes s for a JavaScript expression.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// texts returns the visible text of every element matching css, trimmed.
// It does not wait: the page has loaded when the helpers above return.
func texts(t *testing.T, ctx context.Context, css string) []string {
	t.Helper()
	out, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](
		`[...document.querySelectorAll(`+jsString(css)+`)].map(e => e.innerText.trim())`))
	if err != nil {
		t.Fatalf("read %s: %v", css, err)
	}
	return out
}

// text returns the visible text of the one element matching css, and
// fails the test when there is none.
func text(t *testing.T, ctx context.Context, css string) string {
	t.Helper()
	all := texts(t, ctx, css)
	if len(all) == 0 {
		t.Fatalf("%s: no element matches %s", location(t, ctx), css)
	}
	return all[0]
}

// wantText fails the test unless the element matching css has exactly this text.
func wantText(t *testing.T, ctx context.Context, css, want string) {
	t.Helper()
	if got := text(t, ctx, css); got != want {
		t.Errorf("%s: %s is %q, want %q", location(t, ctx), css, got, want)
	}
}

// wantContains fails the test unless the element matching css contains want.
func wantContains(t *testing.T, ctx context.Context, css, want string) {
	t.Helper()
	if got := text(t, ctx, css); !strings.Contains(got, want) {
		t.Errorf("%s: %s is %q, want it to contain %q", location(t, ctx), css, got, want)
	}
}

// wantPath fails the test unless the tab shows base+path exactly.
func wantPath(t *testing.T, ctx context.Context, base, path string) {
	t.Helper()
	if got := location(t, ctx); got != base+path {
		t.Fatalf("the browser is at %s, want %s", got, base+path)
	}
}

// clickMenu follows the header menu's link to href. The design system's
// header keeps the links that fit on one line and moves the rest behind
// its "More" button, so that is pressed first when the link is hidden.
func clickMenu(t *testing.T, ctx context.Context, href string) int64 {
	t.Helper()
	css := `.nhsuk-header__navigation-list a[href="` + href + `"]`
	shown, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(e => !!e && e.offsetParent !== null)(document.querySelector(`+jsString(css)+`))`))
	if err != nil {
		t.Fatalf("find %s: %v", css, err)
	}
	if !shown {
		tick(t, ctx, ".nhsuk-header__menu-toggle")
	}
	return click(t, ctx, css)
}

// signIn signs in on the login page, and fails unless it leads away from it.
func signIn(t *testing.T, ctx context.Context, base, email, password string) {
	t.Helper()
	visit(t, ctx, base+"/login")
	fill(t, ctx, "email", email)
	fill(t, ctx, "password", password)
	if status := click(t, ctx, `form[action="/login"] button[type=submit]`); status != 200 {
		t.Fatalf("sign in as %s: status %d at %s", email, status, location(t, ctx))
	}
	if loc := location(t, ctx); strings.HasPrefix(loc, base+"/login") {
		t.Fatalf("sign in as %s: still at %s: %q", email, loc, texts(t, ctx, ".nhsuk-error-summary"))
	}
}

// signOut presses the header's "Sign out" button.
func signOut(t *testing.T, ctx context.Context, base string) {
	t.Helper()
	click(t, ctx, ".nhsuk-header__account-button")
	wantPath(t, ctx, base, "/login?signedout=1")
}

// axeSource is axe-core, read once for every test.
var axeSource = sync.OnceValues(func() (string, error) {
	b, err := os.ReadFile("../../web/node_modules/axe-core/axe.min.js")
	if err != nil {
		return "", fmt.Errorf("%w (run `make assets`, which installs axe-core)", err)
	}
	return string(b), nil
})

// axeViolation is what the test reports of one failed axe rule.
type axeViolation struct {
	ID      string   `json:"id"`
	Impact  string   `json:"impact"`
	Help    string   `json:"help"`
	Targets []string `json:"targets"`
}

// axeRun runs axe on the document against WCAG 2.0, 2.1 and 2.2 A and AA,
// and keeps only what the report needs, with the rules that ran (passed,
// failed, incomplete or not applicable), so the test can tell that none
// of them, target-size (WCAG 2.2 2.5.8) above all, was left out.
const axeRun = `axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']}})
	.then(r => ({
		violations: r.violations.map(v => ({
			id: v.id,
			impact: v.impact || '',
			help: v.help,
			targets: v.nodes.map(n => n.target.join(' ')),
		})),
		ran: [...r.passes, ...r.violations, ...r.incomplete, ...r.inapplicable].map(v => v.id),
	}))`

// axeResult is what axeRun returns.
type axeResult struct {
	Violations []axeViolation `json:"violations"`
	Ran        []string       `json:"ran"`
}

// mustRun are the rules whose absence from a run fails the test: a
// configuration that dropped them would otherwise pass every page.
var mustRun = []string{"target-size", "color-contrast", "label"}

// The sizes every page is checked at: a desktop window, and a 320 px wide
// phone (WCAG 1.4.10 reflow).
const (
	desktopWidth, desktopHeight = 1280, 720
	phoneWidth, phoneHeight     = 320, 640
)

// axeOnce runs axe-core on the page the tab shows, at the size it has, and
// fails the test with every violation found. The script is injected
// through the DevTools protocol, which the page's Content-Security-Policy
// does not govern, so the page itself needs no change to be tested.
func axeOnce(t *testing.T, ctx context.Context, pageName string) {
	t.Helper()
	injectAxe(t, ctx, pageName)
	res, err := chromedp.Run(ctx, chromedp.Evaluate[axeResult](axeRun, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: run axe-core: %v", pageName, err)
	}
	for _, id := range mustRun {
		if !slices.Contains(res.Ran, id) {
			t.Errorf("%s: axe-core did not run the rule %s", pageName, id)
		}
	}
	reportViolations(t, ctx, pageName, res.Violations)
}

// checked remembers, per test, the page states axe-core has checked: the
// address, title and size of the document. A page is checked once as it
// stands, however many helpers lead to it or ask for it.
var checked sync.Map // *testing.T → *sync.Map of page states

// ownChecks marks a tab whose test checks its pages itself
// (withOwnChecks), for checkVisited.
type ownChecks struct{}

// withOwnChecks is the tab of ctx, with the pages it visits left to the
// test to check: the session timeout tests run the page on Chrome's
// virtual time, where axe-core and the header's resizing need the page's
// time moved on (virtualTime.checkAccessibilityAtWidths).
func withOwnChecks(ctx context.Context) context.Context {
	return context.WithValue(ctx, ownChecks{}, true)
}

// checkVisited checks the page a navigation led to, when it is an HTML
// page (not a download): every page a browser test visits is checked.
func checkVisited(t *testing.T, ctx context.Context) {
	t.Helper()
	if ctx.Value(ownChecks{}) != nil {
		return
	}
	html, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.contentType === 'text/html'`))
	if err != nil {
		t.Fatalf("read the page's type: %v", err)
	}
	if html {
		checkAccessibility(t, ctx, "the page at "+location(t, ctx))
	}
}

// checkAccessibility runs axe-core on the page as a 1280×720 desktop
// window shows it and as a 320×640 phone does, checks that it does not
// scroll sideways at 320 px (WCAG 1.4.10 reflow), then puts the window
// back to 1280×720 (the size every tab has: newBrowser, newTab). A page
// state checked already in the test is not checked again.
func checkAccessibility(t *testing.T, ctx context.Context, pageName string) {
	t.Helper()
	state, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + ' ' + document.title + ' ' + document.documentElement.outerHTML.length`))
	if err != nil {
		t.Fatalf("%s: read the page: %v", pageName, err)
	}
	seen, loaded := checked.LoadOrStore(t, &sync.Map{})
	if !loaded {
		t.Cleanup(func() { checked.Delete(t) })
	}
	if _, dup := seen.(*sync.Map).LoadOrStore(state, true); dup {
		return
	}
	if w, err := chromedp.Run(ctx, chromedp.Evaluate[int](`window.innerWidth`)); err != nil || w != desktopWidth {
		if _, err := chromedp.Run(ctx, chromedp.EmulateViewport(desktopWidth, desktopHeight)); err != nil {
			t.Fatalf("size the window: %v", err)
		}
		waitForWidth(t, ctx, desktopWidth)
	}
	axeOnce(t, ctx, pageName)
	if _, err := chromedp.Run(ctx, chromedp.EmulateViewport(phoneWidth, phoneHeight)); err != nil {
		t.Fatalf("narrow the window: %v", err)
	}
	waitForWidth(t, ctx, phoneWidth)
	axeOnce(t, ctx, pageName+" at 320 px")
	checkReflow(t, ctx, pageName)
	// chromedp's EmulateReset leaves Chromium at the last size emulated.
	if _, err := chromedp.Run(ctx, chromedp.EmulateViewport(desktopWidth, desktopHeight)); err != nil {
		t.Fatalf("widen the window: %v", err)
	}
	waitForWidth(t, ctx, desktopWidth)
}

// waitForWidth waits until the page has taken the new width. Its scripts
// answer a new width from a ResizeObserver, run before the next frame is
// painted (the header's menu folds into More, the scrolling tables become
// focusable): wait for two frames, as a person would see them.
func waitForWidth(t *testing.T, ctx context.Context, want int) {
	t.Helper()
	if w, err := chromedp.Run(ctx, chromedp.Evaluate[int](`new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(window.innerWidth))))`, chromedp.EvalAwaitPromise)); err != nil || w != want {
		t.Fatalf("the window is %d px wide, not %d (%v)", w, want, err)
	}
}

// checkAccessibilityAtWidths is checkAccessibility, by the name the tests
// written before every check covered both sizes use.
func checkAccessibilityAtWidths(t *testing.T, ctx context.Context, pageName string) {
	t.Helper()
	checkAccessibility(t, ctx, pageName)
}

// checkReflow fails the test when the page, 320 px wide, needs scrolling
// sideways (WCAG 1.4.10), which axe-core does not test: it names the
// elements that stick out, other than the insides of a container that
// scrolls on its own (a wide table may, and is read a row at a time).
func checkReflow(t *testing.T, ctx context.Context, pageName string) {
	t.Helper()
	wide, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`(() => {
		const width = document.documentElement.clientWidth
		if (document.documentElement.scrollWidth <= width) return []
		// The page's own scrolling (the root's overflow is auto) is
		// what is measured, so the search for a scrolling container
		// stops below the body.
		const scrolls = e => {
			for (let p = e.parentElement; p && p !== document.body; p = p.parentElement) {
				if (['auto', 'scroll'].includes(getComputedStyle(p).overflowX)) return true
			}
			return false
		}
		const wide = [...document.body.querySelectorAll('*')]
			.filter(e => e.getBoundingClientRect().right > width + 1 && !scrolls(e))
			.filter((e, _, all) => !all.includes(e.parentElement))
			.map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (typeof e.className === 'string' && e.className.trim() ? '.' + e.className.trim().split(/\s+/).join('.') : '') + ' to ' + Math.round(e.getBoundingClientRect().right) + ' px')
		return wide.length ? wide : ['the page, ' + document.documentElement.scrollWidth + ' px']
	})()`))
	if err != nil {
		t.Fatalf("%s: measure the width: %v", pageName, err)
	}
	if len(wide) > 0 {
		t.Errorf("%s (%s) at 320 px needs scrolling sideways (WCAG 1.4.10 reflow); too wide: %s", pageName, location(t, ctx), strings.Join(wide, ", "))
	}
}

// injectAxe puts axe-core in the page the tab shows, once.
func injectAxe(t *testing.T, ctx context.Context, pageName string) {
	t.Helper()
	src, err := axeSource()
	if err != nil {
		t.Fatalf("axe-core: %v", err)
	}
	loaded, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`typeof window.axe === 'object'`))
	if err != nil {
		t.Fatalf("%s: %v", pageName, err)
	}
	if !loaded {
		// The script's own last value is not serialisable; end on a plain one.
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](src+"\n;true")); err != nil {
			t.Fatalf("%s: inject axe-core: %v", pageName, err)
		}
	}
}

// reportViolations fails the test with every violation axe-core found.
func reportViolations(t *testing.T, ctx context.Context, pageName string, violations []axeViolation) {
	t.Helper()
	if len(violations) == 0 {
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s): %d accessibility violations:", pageName, location(t, ctx), len(violations))
	for _, v := range violations {
		fmt.Fprintf(&b, "\n  %s [%s] %s", v.ID, v.Impact, v.Help)
		for _, target := range v.Targets {
			fmt.Fprintf(&b, "\n    at %s", target)
		}
	}
	t.Error(b.String())
}

// tick clicks a radio button or checkbox: unlike click it waits for no
// page load, as none follows.
func tick(t *testing.T, ctx context.Context, css string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Click(chromedp.CSS(css))); err != nil {
		t.Fatalf("tick %s on %s: %v", css, location(t, ctx), err)
	}
}

// tabTo presses Tab until the element matching css has the focus, as a
// keyboard user would, and fails if it is never reached.
func tabTo(t *testing.T, ctx context.Context, css string) {
	t.Helper()
	for range 400 {
		focused, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.activeElement === document.querySelector(`+jsString(css)+`)`))
		if err != nil {
			t.Fatalf("read the focus: %v", err)
		}
		if focused {
			return
		}
		if _, err := chromedp.Run(ctx, chromedp.KeyEvent(kb.Tab)); err != nil {
			t.Fatalf("press Tab: %v", err)
		}
	}
	t.Fatalf("%s: %s cannot be reached with the Tab key", location(t, ctx), css)
}

// keys types on the keyboard into whatever has the focus.
func keys(t *testing.T, ctx context.Context, text string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.KeyEvent(text)); err != nil {
		t.Fatalf("type %q: %v", text, err)
	}
}

// keyChoose picks an option of the focused select with the arrow keys.
func keyChoose(t *testing.T, ctx context.Context, value string) {
	t.Helper()
	for range 2000 {
		got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement.value`))
		if err != nil {
			t.Fatal(err)
		}
		if got == value {
			return
		}
		keys(t, ctx, kb.ArrowDown)
	}
	t.Fatalf("%s: the arrow keys never reach the option %q", location(t, ctx), value)
}

// keySubmit presses Enter on the focused button and waits for the page it
// leads to, returning its status; the page is checked (checkVisited).
func keySubmit(t *testing.T, ctx context.Context) int64 {
	t.Helper()
	resp, err := chromedp.RunResponse(ctx, chromedp.KeyEvent(kb.Enter))
	if err != nil {
		t.Fatalf("press Enter on %s: %v", location(t, ctx), err)
	}
	checkVisited(t, ctx)
	return resp.Status
}
