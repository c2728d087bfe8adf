package e2e

import (
	"strconv"
	"strings"
	"testing"

	"ccgtracker/internal/auth"
	"ccgtracker/internal/testkit"
)

// TestAdminPutsAUserRight: an administrator finds a buyer by searching
// and filtering the users, changes her CCG (a problem first, shown next
// to its field), which signs her out of the browser she is using; she
// reads her account page before and after; the admin deactivates and
// reactivates her, and asks to issue a past month, which asks first.
// axe at 1280 px and 320 px on every page.
func TestAdminPutsAUserRight(t *testing.T) {
	t.Parallel()
	base, pool := newAppWithPool(t, nil)
	bea := testkit.UserID(t, pool, "buyer.16c@example.nhs.uk")
	userPage := "/admin/users/" + strconv.FormatInt(bea, 10)

	buyer := newBrowser(t)
	signIn(t, buyer, base, "buyer.16c@example.nhs.uk", auth.DemoPassword)
	click(t, buyer, ".nhsuk-header__account-link")
	wantPath(t, buyer, base, "/account")
	wantText(t, buyer, "h1", "Your account")
	wantContains(t, buyer, "[data-testid=sends]", "When NHS Digital sends your return back")
	checkAccessibilityAtWidths(t, buyer, "a buyer's account page")

	admin := newBrowser(t)
	signIn(t, admin, base, "admin@example.nhs.uk", auth.DemoPassword)
	visit(t, admin, base+"/admin/users")
	fill(t, admin, "q", "buyer")
	fill(t, admin, "role", "buyer")
	fill(t, admin, "ccg", "16C")
	click(t, admin, "[data-testid=user-filters] button[type=submit]")
	rows := texts(t, admin, "[data-testid=user-list] tbody tr")
	if len(rows) != 1 || !strings.Contains(rows[0], "buyer.16c@example.nhs.uk") {
		t.Fatalf("searching for 16C's buyers lists %q", rows)
	}
	wantText(t, admin, "[data-testid=pager-summary]", "Showing 1 to 1 of 1")
	checkAccessibilityAtWidths(t, admin, "the user list searched and filtered")

	click(t, admin, `[data-testid=user-list] a[href="`+userPage+`"]`)
	click(t, admin, `a[href="`+userPage+`/edit"]`)
	wantContains(t, admin, "h1", "Change Bea Buyer")
	checkAccessibilityAtWidths(t, admin, "the form to change a user")
	fill(t, admin, "ccg", "")
	click(t, admin, `form[action$="/edit"] button[type=submit]`)
	wantContains(t, admin, ".nhsuk-error-summary", "Select the CCG this buyer belongs to")
	wantContains(t, admin, "#ccg-error", "Select the CCG this buyer belongs to")
	checkAccessibilityAtWidths(t, admin, "the form to change a user, with a problem")
	fill(t, admin, "ccg", "03Q")
	click(t, admin, `form[action$="/edit"] button[type=submit]`)
	wantPath(t, admin, base, userPage)
	wantContains(t, admin, ".nhsuk-notification-banner", "signed out everywhere")
	wantContains(t, admin, "[data-testid=audit]", "User changed")
	wantContains(t, admin, "[data-testid=audit]", "CCG: changed from “16C” to “03Q”")
	checkAccessibilityAtWidths(t, admin, "the user's page after the change")

	// Bea's browser is signed out at once.
	visit(t, buyer, base+"/account")
	wantPath(t, buyer, base, "/login?next=%2Faccount")

	click(t, admin, `form[action$="/deactivate"] button`)
	wantContains(t, admin, ".nhsuk-notification-banner", "deactivated")
	checkAccessibilityAtWidths(t, admin, "a deactivated user's page")
	click(t, admin, `form[action$="/reactivate"] button`)
	wantContains(t, admin, ".nhsuk-notification-banner", "active again")
	signIn(t, buyer, base, "buyer.16c@example.nhs.uk", auth.DemoPassword)
	wantPath(t, buyer, base, "/")
	wantContains(t, buyer, "[data-testid=user-role]", "NHS Vale of York CCG")

	// Issuing a month long gone asks first, saying how many will be late.
	visit(t, admin, base+"/admin/returns")
	fill(t, admin, "period", "2025-01")
	click(t, admin, `form[action="/admin/returns/issue"] button[type=submit]`)
	wantContains(t, admin, "[data-testid=issue-warning]", "106 returns will be issued")
	wantContains(t, admin, "[data-testid=issue-warning]", "106 of them will be late at once")
	checkAccessibilityAtWidths(t, admin, "the confirmation before issuing a past month")
	click(t, admin, `form[action="/admin/returns/issue"] button[type=submit]`)
	wantContains(t, admin, ".nhsuk-notification-banner", "106 returns issued for January 2025")
}
