package e2e

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"ccgtracker/internal/auth"
	"ccgtracker/internal/server"
	"ccgtracker/internal/testkit"
)

// TestSessionTimeoutWarning checks WCAG 2.2.1 Timing Adjustable: before the
// idle timeout signs someone out, a dialog warns them, and "Stay signed in"
// really extends the session on the server, not only on the page. It runs
// on the default idle timeout, 30 minutes, in no time (see virtualTime).
func TestSessionTimeoutWarning(t *testing.T) {
	t.Parallel()
	vt, base := newVirtualTimeApp(t)
	signedIn := vt.signIn(base, "buyer.16c@example.nhs.uk", auth.DemoPassword)
	vt.wantPath(base, "/")
	if vt.dialogOpen() {
		t.Fatalf("the timeout warning is open as soon as the page loads")
	}

	// app.js warns 5 minutes before the end: not at 24:55...
	vt.advanceTo(signedIn.Add(24*time.Minute + 55*time.Second))
	vt.wantStayed(base, "/")
	if vt.dialogOpen() {
		t.Fatalf("the timeout warning is open more than 5 minutes before the session ends")
	}
	// ...but at 25:05.
	vt.advanceTo(signedIn.Add(25*time.Minute + 5*time.Second))
	vt.wantStayed(base, "/")
	if !vt.dialogOpen() {
		t.Fatalf("the timeout warning is not open 5 minutes before the session ends")
	}
	ctx := vt.ctx
	wantText(t, ctx, "#session-timeout-title", "You will be signed out soon")
	wantContains(t, ctx, "#session-timeout", "unless you choose to stay signed in")
	wantText(t, ctx, "#session-timeout-remaining", "5 minutes")
	// A modal dialog must take the focus, or a keyboard or screen reader
	// user does not know it is there.
	focusInDialog, err := chromedp.Run(ctx, chromedp.Evaluate[bool](
		`document.getElementById('session-timeout').contains(document.activeElement)`))
	if err != nil || !focusInDialog {
		t.Errorf("the focus is not in the open warning (err %v)", err)
	}
	vt.checkAccessibilityAtWidths("dashboard with the timeout warning open")
	if !vt.dialogOpen() {
		t.Fatalf("the timeout warning closed while the page was checked")
	}

	// "Stay signed in" closes the warning without leaving the page.
	extended := vt.staySignedIn()
	vt.wantStayed(base, "/")

	// 29 minutes later the session would have been idle for 54 minutes
	// without the extension. The page has not signed them out (its warning
	// is open again, for the new end), and the server still knows them:
	// only a session it really extended is still there.
	vt.advanceTo(extended.Add(29 * time.Minute))
	vt.wantStayed(base, "/")
	if !vt.dialogOpen() {
		t.Errorf("no warning 5 minutes before the extended session ends")
	}
	lastUse := vt.clock.Now()
	if status := vt.visit(base + "/ccgs/16C"); status != 200 {
		t.Fatalf("/ccgs/16C after Stay signed in: status %d at %s, want 200", status, location(t, ctx))
	}
	vt.wantPath(base, "/ccgs/16C")
	wantText(t, ctx, "h1", "NHS Tees Valley CCG")
	wantText(t, ctx, "[data-testid=user-name]", "Bea Buyer")

	// That visit was the session's last use: it ends 30 minutes after it,
	// extended by nobody.
	vt.wantTimedOut(base, lastUse.Add(30*time.Minute+5*time.Second))
}

// TestSessionTimeoutSignsOut checks that 30 minutes of doing nothing signs
// someone out, on the page and on the server, and not a moment before.
func TestSessionTimeoutSignsOut(t *testing.T) {
	t.Parallel()
	vt, base := newVirtualTimeApp(t)
	signedIn := vt.signIn(base, "buyer.16c@example.nhs.uk", auth.DemoPassword)

	vt.advanceTo(signedIn.Add(29*time.Minute + 55*time.Second))
	vt.wantStayed(base, "/")
	if !vt.dialogOpen() {
		t.Errorf("no warning 5 seconds before the session ends")
	}
	wantText(t, vt.ctx, "#session-timeout-remaining", "1 minute")
	vt.wantTimedOut(base, signedIn.Add(30*time.Minute+5*time.Second))
}

// virtualTime runs a browser tab and the server on two clocks that only the
// test moves: the server's (server.WithClock) and the page's, Chrome's
// virtual time, which drives the page's Date.now and timers. They start at
// the same instant and move on together, the server's first (run), so
// the 30-minute idle timeout is tested in no time and a loaded machine
// cannot run a timer out while the test looks at the page: between
// advances the page's time stands still.
//
// Chrome runs a page's tasks only while its virtual time may move, so every
// step that needs the page to work (load, submit, fetch) is given a budget
// of virtual time, loadBudget, which both clocks move by. A page loads with
// the policy pauseIfNetworkFetchesPending: its time stands while its files
// are fetched, however slow the server, so the whole load fits the budget.
type virtualTime struct {
	t     *testing.T
	ctx   context.Context
	clock *testkit.Clock

	// The tab's events, in the order Chrome sent them (chromedp.Listen).
	navigated chan *cdp.Frame
	requested chan string // the addresses the page itself navigates to
	loaded    chan struct{}
	expired   chan struct{}
	mu        sync.Mutex
	status    map[cdp.LoaderID]int64 // the documents' HTTP statuses
	// extendStatus is the status of the page's last POST /session/extend.
	extendStatus int64
}

// loadBudget is the virtual time a page is given to load or to act on a
// press: plenty for work that takes no time of its own, and far less than
// the margins the tests leave around the timers they check.
const loadBudget = time.Second

// newVirtualTimeApp starts the server with the default configuration on a
// test clock, and a browser tab that signIn puts on virtual time.
func newVirtualTimeApp(t *testing.T) (*virtualTime, string) {
	t.Helper()
	// Whole seconds, as the session keeps its seen time.
	vt := &virtualTime{
		t:         t,
		clock:     testkit.NewClock(time.Now().Truncate(time.Second)),
		navigated: make(chan *cdp.Frame, 64),
		requested: make(chan string, 64),
		loaded:    make(chan struct{}, 64),
		expired:   make(chan struct{}, 64),
		status:    map[cdp.LoaderID]int64{},
	}
	base := newApp(t, nil, server.WithClock(vt.clock.Now))
	// The window as it is, unemulated until a check narrows it: emulated
	// from the start, the page on virtual time never draws the frame in
	// which the header folds its menu at 320 px.
	vt.ctx = withOwnChecks(newWindow(t, 3*time.Minute))
	// The listener must return at once and run no command: it only
	// passes the events on, and the channels hold more than a step sends.
	if err := chromedp.Listen(vt.ctx, func(ev any) {
		switch ev := ev.(type) {
		case *page.EventFrameNavigated:
			if ev.Frame.ParentID == "" {
				send(vt.navigated, ev.Frame)
			}
		case *page.EventFrameRequestedNavigation:
			send(vt.requested, ev.URL) // the tests' pages have no frames
		case *page.EventLoadEventFired:
			send(vt.loaded, struct{}{})
		case *emulation.EventVirtualTimeBudgetExpired:
			send(vt.expired, struct{}{})
		case *network.EventResponseReceived:
			vt.mu.Lock()
			switch {
			case ev.Type == network.ResourceTypeDocument:
				vt.status[ev.LoaderID] = ev.Response.Status
			case ev.Type == network.ResourceTypeFetch && strings.HasSuffix(ev.Response.URL, "/session/extend"):
				vt.extendStatus = ev.Response.Status
			}
			vt.mu.Unlock()
		}
	}); err != nil {
		t.Fatalf("listen to the tab: %v", err)
	}
	return vt, base
}

// send passes v on without ever blocking the tab's event loop.
func send[T any](c chan T, v T) {
	select {
	case c <- v:
	default:
	}
}

// run moves the server's clock on by d, then lets the page's time run d
// under policy, and returns when it has: every page timer due by then has
// run. The server's clock moves first, so whatever the page asks of the
// server meanwhile, the server is at least as far on as the page: a page
// timer that has run out never meets a session that has not.
func (vt *virtualTime) run(policy emulation.VirtualTimePolicy, d time.Duration) {
	vt.t.Helper()
	vt.clock.Add(d)
	budget := float64(d.Milliseconds())
	if _, err := chromedp.Call(vt.ctx, emulation.SetVirtualTimePolicy, emulation.SetVirtualTimePolicyParams{
		Policy: policy,
		Budget: &budget,
	}); err != nil {
		vt.t.Fatalf("let the page's time run %s: %v", d, err)
	}
	select {
	case <-vt.expired:
	case <-vt.ctx.Done():
		vt.t.Fatalf("the page's time did not run %s: %v", d, vt.ctx.Err())
	}
}

// advanceTo moves both clocks on to at. With the policy "advance" the
// page's time jumps from timer to timer whenever the page is idle.
func (vt *virtualTime) advanceTo(at time.Time) {
	vt.t.Helper()
	vt.clearEvents()
	d := at.Sub(vt.clock.Now())
	if d <= 0 {
		vt.t.Fatalf("the clocks are already at %s, past %s", vt.clock.Now(), at)
	}
	vt.run(emulation.VirtualTimePolicyAdvance, d)
}

// clearEvents forgets the events of what came before a step.
func (vt *virtualTime) clearEvents() {
	for {
		select {
		case <-vt.navigated:
		case <-vt.requested:
		case <-vt.loaded:
		default:
			return
		}
	}
}

// waitLoad waits for the tab to show a new document, started by what the
// test did since clearEvents, and lets it load: it returns the document's
// HTTP status (after any redirect).
//
// The document loads under pauseIfNetworkFetchesPending, its time standing
// while its files are fetched, so its scripts start their timers at a
// known time: within loadBudget of the navigation. That does not work
// after a navigation the page started itself (see signIn), and
// waitLoadAfterPage is for the pages that follow one.
func (vt *virtualTime) waitLoad() int64 {
	vt.t.Helper()
	frame := vt.waitNavigated()
	vt.run(emulation.VirtualTimePolicyPauseIfNetworkFetchesPending, loadBudget)
	// The listener passed the load event on before the budget's end.
	select {
	case <-vt.loaded:
	default:
		vt.t.Fatalf("%s did not load within %s of its own time", frame.URL, loadBudget)
	}
	return vt.statusOf(frame)
}

// waitLoadAfterPage is waitLoad for the pages after a navigation the page
// started: time runs loadBudget at a time until the document has loaded,
// however long its files take. Their scripts' timers start at a time the
// test does not know, so only pages whose timers the test does not check
// (the sign-in page) are loaded this way.
func (vt *virtualTime) waitLoadAfterPage() int64 {
	vt.t.Helper()
	frame := vt.waitNavigated()
	for range 60 {
		vt.run(emulation.VirtualTimePolicyAdvance, loadBudget)
		select {
		case <-vt.loaded:
			return vt.statusOf(frame)
		default:
		}
	}
	vt.t.Fatalf("%s did not load within a minute of its own time", frame.URL)
	return 0
}

func (vt *virtualTime) waitNavigated() *cdp.Frame {
	vt.t.Helper()
	select {
	case frame := <-vt.navigated:
		return frame
	case <-vt.ctx.Done():
		vt.t.Fatalf("no new page: %v", vt.ctx.Err())
		return nil
	}
}

func (vt *virtualTime) statusOf(frame *cdp.Frame) int64 {
	vt.mu.Lock()
	defer vt.mu.Unlock()
	return vt.status[frame.LoaderID]
}

// visit opens url, as typing it in would, and returns its status.
func (vt *virtualTime) visit(url string) int64 {
	vt.t.Helper()
	vt.navigate(url)
	return vt.waitLoad()
}

// navigate starts opening url: the navigation starts with the page's time
// stopped and commits; the caller lets the document load.
func (vt *virtualTime) navigate(url string) {
	vt.t.Helper()
	vt.clearEvents()
	if _, err := chromedp.Call(vt.ctx, page.Navigate, page.NavigateParams{URL: url}); err != nil {
		vt.t.Fatalf("open %s: %v", url, err)
	}
}

// signIn signs in and opens the dashboard, the page under test, on virtual
// time; it returns the server's time of the sign-in, when the session's
// idle clock started.
//
// The sign-in itself runs on real time: in Chrome 156 a navigation that the
// page starts (a form, location.assign) leaves the page's virtual time
// unable to move under pauseIfNetworkFetchesPending, as if the navigation
// were still a fetch in flight, while one that DevTools starts does not.
// The page's timers are all set afresh by the dashboard that follows.
func (vt *virtualTime) signIn(base, email, password string) time.Time {
	t := vt.t
	t.Helper()
	signIn(t, vt.ctx, base, email, password)
	at := vt.clock.Now()
	if _, err := chromedp.Call(vt.ctx, emulation.SetVirtualTimePolicy, emulation.SetVirtualTimePolicyParams{
		Policy:             emulation.VirtualTimePolicyPause,
		InitialVirtualTime: cdp.TimeSinceEpoch(float64(at.UnixMilli()) / 1000),
	}); err != nil {
		t.Fatalf("start the page's virtual time: %v", err)
	}
	if status := vt.visit(base + "/"); status != 200 {
		t.Fatalf("the dashboard after signing in: status %d at %s", status, location(t, vt.ctx))
	}
	return at
}

// staySignedIn presses "Stay signed in", lets the page act on it (its
// fetch holds the page's time still until the server answers) and checks
// that the page asked the server and closed the warning. It returns the
// server's time of the extension.
func (vt *virtualTime) staySignedIn() time.Time {
	t := vt.t
	t.Helper()
	vt.clearEvents()
	vt.mu.Lock()
	vt.extendStatus = 0
	vt.mu.Unlock()
	if err := chromedp.Do(vt.ctx, chromedp.Click(chromedp.ID("session-extend"))); err != nil {
		t.Fatalf("press Stay signed in: %v", err)
	}
	vt.run(emulation.VirtualTimePolicyPauseIfNetworkFetchesPending, loadBudget)
	at := vt.clock.Now()
	vt.mu.Lock()
	status := vt.extendStatus
	vt.mu.Unlock()
	if status != 204 {
		t.Errorf("Stay signed in: POST /session/extend answered %d, want 204 (0: not asked)", status)
	}
	// The dialog's close event is not used: under virtual time Chrome
	// may hold it back for several budgets after the dialog has closed.
	if vt.dialogOpen() {
		t.Fatalf("the warning is still open after Stay signed in")
	}
	return at
}

// wantTimedOut moves both clocks on to at, past the end of the session,
// and checks that the page went to the sign-in page saying why and that
// the server ended the session: the sign-in page sends someone still
// signed in home, and a signed-in page sends them to sign in.
func (vt *virtualTime) wantTimedOut(base string, at time.Time) {
	t := vt.t
	t.Helper()
	vt.advanceTo(at)
	select {
	case url := <-vt.requested:
		if url != base+"/login?timeout=1" {
			t.Errorf("at the end of the session the page went to %s, want /login?timeout=1", url)
		}
	default:
		t.Fatalf("the page did not sign out at the end of the session: it is still at %s", location(t, vt.ctx))
	}
	if status := vt.waitLoadAfterPage(); status != 200 {
		t.Fatalf("signed out for doing nothing: status %d at %s", status, location(t, vt.ctx))
	}
	vt.wantPath(base, "/login?timeout=1")
	wantContains(t, vt.ctx, "[data-testid=login-notice]", "You were signed out because you did nothing for a while")
	vt.checkAccessibility("signed out for doing nothing")
	vt.navigate(base + "/ccgs/16C")
	vt.waitLoadAfterPage()
	vt.wantPath(base, "/login?next=%2Fccgs%2F16C")
}

// checkAccessibility is checkAccessibility (helpers_test.go) on virtual
// time: axe-core waits on timers between its rules, so the page's time runs
// loadBudget at a time, both clocks alike, until axe has finished.
func (vt *virtualTime) checkAccessibility(pageName string) {
	t := vt.t
	t.Helper()
	injectAxe(t, vt.ctx, pageName)
	if _, err := chromedp.Run(vt.ctx, chromedp.Evaluate[bool](`window.axeResult = null,
		(`+axeRun+`).then(r => { window.axeResult = r }, e => { window.axeResult = {error: String(e)} }),
		true`)); err != nil {
		t.Fatalf("%s: start axe-core: %v", pageName, err)
	}
	type result struct {
		Violations []axeViolation `json:"violations"`
		Ran        []string       `json:"ran"`
		Error      string         `json:"error"`
	}
	for range 60 {
		vt.run(emulation.VirtualTimePolicyAdvance, loadBudget)
		r, err := chromedp.Run(vt.ctx, chromedp.Evaluate[*result](`window.axeResult`))
		switch {
		case err != nil:
			t.Fatalf("%s: read axe-core's result: %v", pageName, err)
		case r == nil:
			continue
		case r.Error != "":
			t.Fatalf("%s: run axe-core: %s", pageName, r.Error)
		}
		for _, id := range mustRun {
			if !slices.Contains(r.Ran, id) {
				t.Errorf("%s: axe-core did not run the rule %s", pageName, id)
			}
		}
		reportViolations(t, vt.ctx, pageName, r.Violations)
		return
	}
	t.Fatalf("%s: axe-core did not finish within a minute of the page's time", pageName)
}

// checkAccessibilityAtWidths is checkAccessibilityAtWidths (return_test.go)
// on virtual time: the page takes its new width in a task of its own.
func (vt *virtualTime) checkAccessibilityAtWidths(pageName string) {
	t := vt.t
	t.Helper()
	vt.checkAccessibility(pageName)
	if _, err := chromedp.Run(vt.ctx, chromedp.EmulateViewport(320, 640)); err != nil {
		t.Fatalf("narrow the window: %v", err)
	}
	vt.run(emulation.VirtualTimePolicyAdvance, loadBudget)
	if w, err := chromedp.Run(vt.ctx, chromedp.Evaluate[int](`window.innerWidth`)); err != nil || w != 320 {
		t.Fatalf("the window is %d px wide, not 320 (%v)", w, err)
	}
	// The header folds its menu into More in an animation frame, which a
	// loaded machine may not have drawn within the budget: give the page's
	// time until no menu item sticks out of the narrow window.
	for i := 0; ; i++ {
		folded, err := chromedp.Run(vt.ctx, chromedp.Evaluate[bool](`[...document.querySelectorAll('.nhsuk-header__navigation-list > .nhsuk-header__navigation-item')]
			.every(li => li.offsetParent === null || li.getBoundingClientRect().right <= window.innerWidth)`))
		if err != nil {
			t.Fatalf("read the header: %v", err)
		}
		if folded {
			break
		}
		if i == 20 {
			t.Fatalf("%s: the header's menu did not fold into More at 320 px", pageName)
		}
		vt.run(emulation.VirtualTimePolicyAdvance, loadBudget)
	}
	vt.checkAccessibility(pageName + " at 320 px")
	if _, err := chromedp.Run(vt.ctx, chromedp.EmulateReset()); err != nil {
		t.Fatalf("widen the window: %v", err)
	}
	vt.run(emulation.VirtualTimePolicyAdvance, loadBudget)
}

// wantStayed fails the test unless the tab shows base+path and the page
// has not asked to go anywhere since the last step: a navigation it starts
// while its time runs may not have reached the address bar yet.
func (vt *virtualTime) wantStayed(base, path string) {
	vt.t.Helper()
	select {
	case url := <-vt.requested:
		vt.t.Fatalf("the page went to %s, want it to stay at %s", url, base+path)
	default:
	}
	vt.wantPath(base, path)
}

// wantPath fails the test unless the tab shows base+path.
func (vt *virtualTime) wantPath(base, path string) {
	vt.t.Helper()
	wantPath(vt.t, vt.ctx, base, path)
}

// dialogOpen reports whether the session timeout warning is open.
func (vt *virtualTime) dialogOpen() bool {
	vt.t.Helper()
	open, err := chromedp.Run(vt.ctx, chromedp.Evaluate[bool](`document.getElementById('session-timeout').open`))
	if err != nil {
		vt.t.Fatalf("read the timeout warning: %v", err)
	}
	return open
}
