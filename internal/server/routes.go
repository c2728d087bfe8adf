package server

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"ccgtracker/internal/auth"
)

// route is one line of the route table.
type route struct {
	method  string
	pattern string
	access  access
	handler handlerFunc
}

// routes is the whole site map: every page and action, and who may use it.
// Nothing is served that is not listed here.
func (s *Server) routes() []route {
	return []route{
		// For load balancers and people arriving.
		{"GET", "/healthz", anyone(), s.healthz},
		{"GET", "/readyz", anyone(), s.readyz},
		{"GET", "/static/*", anyone(), s.staticFiles},
		{"GET", "/assets/*", anyone(), s.designSystemAssets},

		// Signing in and out.
		{"GET", "/login", anyone(), s.loginPage},
		{"POST", "/login", anyone(), s.login},
		{"POST", "/logout", anyone(), s.logout},
		{"POST", "/session/extend", signedIn(), s.extendSession},
		{"GET", "/set-password/{token}", anyone(), s.setPasswordPage},
		{"POST", "/set-password/{token}", anyone(), s.setPassword},

		// Everyone signed in; buyers see only their own CCG.
		{"GET", "/", signedIn(), s.dashboard},
		{"GET", "/account", signedIn(), s.account},
		{"GET", "/ccgs", signedIn(), s.ccgList},
		{"GET", "/ccgs/{code}", signedIn(), s.ccgShow},
		{"GET", "/practices/{code}", signedIn(), s.practiceShow},
		{"GET", "/catalogue", signedIn(), s.catalogueList},
		{"GET", "/catalogue/{id}", signedIn(), s.catalogueShow},

		// Continuity agreements and the service ledger: everyone signed in
		// reads (a buyer only their own CCG); reviewers change agreements.
		{"GET", "/ccgs/{code}/agreements", signedIn(), s.agreementList},
		{"GET", "/ccgs/{code}/agreements/{id}", signedIn(), s.agreementShow},
		{"POST", "/ccgs/{code}/agreements/{id}/services", only(auth.Reviewer), s.agreementAddService},
		{"POST", "/ccgs/{code}/agreements/{id}/cancellations", only(auth.Reviewer), s.agreementCancel},
		{"GET", "/ccgs/{code}/services", signedIn(), s.serviceList},
		{"GET", "/ccgs/{code}/services/{id}", signedIn(), s.serviceShow},

		// Call-off orders: buyers for their own CCG, reviewers for any;
		// finance reads.
		{"GET", "/orders", orderReaders, s.orderList},
		{"GET", "/orders/new", orderWriters, s.orderNew},
		{"POST", "/orders", orderWriters, s.orderCreate},
		{"GET", "/orders/{callOffID}", orderReaders, s.orderShow},
		{"GET", "/orders/{callOffID}/summary", orderReaders, s.orderSummary},
		{"GET", "/orders/{callOffID}/export.csv", orderReaders, s.orderExport},
		{"GET", "/orders/{callOffID}/details", orderWriters, s.orderDetailsEdit},
		{"POST", "/orders/{callOffID}/details", orderWriters, s.orderDetailsUpdate},
		{"GET", "/orders/{callOffID}/items/new", orderWriters, s.orderItemNew},
		{"POST", "/orders/{callOffID}/items", orderWriters, s.orderItemAdd},
		{"GET", "/orders/{callOffID}/items/{itemID}", orderWriters, s.orderItemShow},
		{"POST", "/orders/{callOffID}/items/{itemID}/funding", orderWriters, s.orderItemFunding},
		{"POST", "/orders/{callOffID}/items/{itemID}/practices", orderWriters, s.orderItemPractices},
		{"POST", "/orders/{callOffID}/items/{itemID}/upload", orderWriters, s.orderItemUpload},
		{"GET", "/orders/{callOffID}/items/{itemID}/recipients", orderWriters, s.orderRecipientsEdit},
		{"POST", "/orders/{callOffID}/items/{itemID}/recipients", orderWriters, s.orderRecipientsSave},
		{"POST", "/orders/{callOffID}/items/{itemID}/delete", orderWriters, s.orderItemDelete},
		{"POST", "/orders/{callOffID}/complete", orderWriters, s.orderComplete},
		{"POST", "/orders/{callOffID}/amend", orderWriters, s.orderAmend},
		{"GET", "/orders/{callOffID}/terminate", orderWriters, s.orderTerminateForm},
		{"POST", "/orders/{callOffID}/terminate", orderWriters, s.orderTerminate},

		// Procurements (DOMAIN.md §3): buyers for their own CCG, reviewers
		// for any; the award makes a call-off order.
		{"GET", "/procurements", procurementReaders, s.procurementList},
		{"GET", "/procurements/new", procurementWriters, s.procurementNew},
		{"POST", "/procurements", procurementWriters, s.procurementCreate},
		{"GET", "/procurements/{id}", procurementReaders, s.procurementShow},
		{"GET", "/procurements/{id}/prepare", procurementReaders, s.procurementPrepareForm},
		{"POST", "/procurements/{id}/prepare", procurementWriters, s.procurementPrepare},
		{"GET", "/procurements/{id}/shortlist", procurementReaders, s.procurementShortlist},
		{"POST", "/procurements/{id}/shortlist", procurementWriters, s.procurementShortlistAdd},
		{"POST", "/procurements/{id}/shortlist/remove", procurementWriters, s.procurementShortlistRemove},
		{"POST", "/procurements/{id}/shortlist/complete", procurementWriters, s.procurementReviewComplete},
		{"GET", "/procurements/{id}/evaluate", procurementReaders, s.procurementEvaluateForm},
		{"POST", "/procurements/{id}/evaluate", procurementWriters, s.procurementEvaluate},
		{"GET", "/procurements/{id}/award", procurementReaders, s.procurementAwardForm},
		{"POST", "/procurements/{id}/award", procurementWriters, s.procurementAward},
		{"GET", "/procurements/{id}/manage", procurementReaders, s.procurementManagePage},
		{"POST", "/procurements/{id}/manage", procurementWriters, s.procurementManage},

		// Monthly returns (DOMAIN.md §6): buyers fill in and submit their own
		// CCG's; reviewers return or accept any; everyone else reads.
		{"GET", "/returns", returnOverseers, s.returnList},
		{"GET", "/ccgs/{code}/returns", returnReaders, s.returnHistory},
		{"GET", "/ccgs/{code}/returns/{period}", returnReaders, s.returnShow},
		{"POST", "/ccgs/{code}/returns/{period}/lines", returnWriters, s.returnAddLine},
		{"GET", "/ccgs/{code}/returns/{period}/lines/{lineID}/edit", returnWriters, s.returnLineEdit},
		{"POST", "/ccgs/{code}/returns/{period}/lines/{lineID}/edit", returnWriters, s.returnLineSave},
		{"GET", "/ccgs/{code}/returns/{period}/lines/{lineID}/delete", returnWriters, s.returnLineRemoveConfirm},
		{"POST", "/ccgs/{code}/returns/{period}/lines/{lineID}/delete", returnWriters, s.returnDeleteLine},
		{"GET", "/ccgs/{code}/returns/{period}/services/{ref}/report", returnWriters, s.returnServiceReport},
		{"POST", "/ccgs/{code}/returns/{period}/services/{ref}/report", returnWriters, s.returnServiceReportSave},
		{"GET", "/ccgs/{code}/returns/{period}/check", returnWriters, s.returnCheck},
		{"POST", "/ccgs/{code}/returns/{period}/submit", returnWriters, s.returnSubmit},
		{"POST", "/ccgs/{code}/returns/{period}/nil", returnWriters, s.returnNil},
		{"GET", "/ccgs/{code}/returns/{period}/download", returnReaders, s.returnDownload},
		{"POST", "/ccgs/{code}/returns/{period}/upload", returnWriters, s.returnUpload},
		{"GET", "/ccgs/{code}/returns/{period}/review", returnOverseers, s.returnReview},
		{"POST", "/ccgs/{code}/returns/{period}/return", returnReviewers, s.returnSendBack},
		{"POST", "/ccgs/{code}/returns/{period}/accept", returnReviewers, s.returnAccept},
		{"GET", "/ccgs/{code}/returns/{period}/versions", returnReaders, s.returnVersions},
		// Changes an ODS import proposes to the CCG's return (issue 13).
		{"GET", "/ccgs/{code}/returns/{period}/proposals/{id}", returnWriters, s.proposalShow},
		{"POST", "/ccgs/{code}/returns/{period}/proposals/{id}/confirm", returnWriters, s.proposalConfirm},
		{"POST", "/ccgs/{code}/returns/{period}/proposals/{id}/dismiss", returnWriters, s.proposalDismiss},
		{"GET", "/performance", returnOverseers, s.performancePage},
		{"GET", "/performance.csv", returnOverseers, s.performanceCSV},

		// Reconciliation (finance): finance reads, exports and closes;
		// admins read and export; buyers and reviewers have no access.
		{"GET", "/reconciliation", only(auth.Finance, auth.Admin), s.reconciliationIndex},
		{"GET", "/reconciliation/{period}", only(auth.Finance, auth.Admin), s.reconciliationMonth},
		{"GET", "/reconciliation/{period}/lines/{instanceID}", only(auth.Finance, auth.Admin), s.reconciliationLine},
		{"GET", "/reconciliation/{period}.csv", only(auth.Finance, auth.Admin), s.reconciliationCSV},
		{"GET", "/reconciliation/{period}.xlsx", only(auth.Finance, auth.Admin), s.reconciliationXLSX},
		{"GET", "/reconciliation/{period}/close", only(auth.Finance), s.reconciliationCloseForm},
		{"POST", "/reconciliation/{period}/close", only(auth.Finance), s.reconciliationClose},

		// Administration.
		{"GET", "/admin/users", only(auth.Admin), s.adminUsers},
		{"GET", "/admin/users/new", only(auth.Admin), s.adminNewUser},
		{"POST", "/admin/users", only(auth.Admin), s.adminCreateUser},
		{"GET", "/admin/users/{id}", only(auth.Admin), s.adminUser},
		{"GET", "/admin/users/{id}/edit", only(auth.Admin), s.adminEditUser},
		{"POST", "/admin/users/{id}/edit", only(auth.Admin), s.adminUpdateUser},
		{"POST", "/admin/users/{id}/deactivate", only(auth.Admin), s.adminDeactivateUser},
		{"POST", "/admin/users/{id}/reactivate", only(auth.Admin), s.adminReactivateUser},
		{"POST", "/admin/users/{id}/password-link", only(auth.Admin), s.adminPasswordLink},
		{"GET", "/admin/audit", only(auth.Admin), s.adminAudit},
		{"GET", "/admin/ccgs/{code}", only(auth.Admin), s.adminCCG},
		{"POST", "/admin/ccgs/{code}", only(auth.Admin), s.adminCCGSave},
		{"GET", "/admin/returns", only(auth.Admin), s.adminReturns},
		{"POST", "/admin/returns/issue", only(auth.Admin), s.adminReturnsIssue},
		{"GET", "/admin/jobs", only(auth.Admin), s.adminJobs},
		{"POST", "/admin/jobs/run", only(auth.Admin), s.adminJobsRun},
		{"GET", "/admin/outbox", only(auth.Admin), s.adminOutbox},
		{"GET", "/admin/imports", only(auth.Admin), s.adminImports},
		{"GET", "/admin/imports/list-sizes", only(auth.Admin), s.adminListSizesForm},
		{"POST", "/admin/imports/list-sizes", only(auth.Admin), s.adminListSizesImport},
		{"GET", "/admin/imports/ods", only(auth.Admin), s.adminODSForm},
		{"POST", "/admin/imports/ods", only(auth.Admin), s.adminODSImport},
		{"GET", "/admin/imports/{id}", only(auth.Admin), s.adminImport},
	}
}

// Route is one line of the route table as a test outside the package
// sees it: the browser tests walk the table to open every page as every
// role that may, so that a new page cannot go unchecked.
type Route struct {
	Method  string
	Pattern string
	Public  bool        // no sign-in needed
	Roles   []auth.Role // the signed-in roles it admits
}

// Routes lists the route table.
func (s *Server) Routes() []Route {
	var out []Route
	for _, rt := range s.routes() {
		out = append(out, Route{Method: rt.method, Pattern: rt.pattern, Public: rt.access.public, Roles: rt.access.roles})
	}
	return out
}

// register adds every route to the router, each behind its access check,
// and keeps who may open each page, for the menu.
func (s *Server) register(r chi.Router) {
	s.pageAccess = map[string]access{}
	for _, rt := range s.routes() {
		if rt.method == http.MethodGet {
			s.pageAccess[rt.pattern] = rt.access
		}
		r.Method(rt.method, rt.pattern, s.adapt(s.authorize(rt.access, rt.handler)))
		if rt.method == http.MethodGet {
			r.Method(http.MethodHead, rt.pattern, s.adapt(s.authorize(rt.access, rt.handler)))
		}
	}
}

// navigation is the header menu: only the pages the user may open.
func (s *Server) navigation(r *http.Request, u *auth.User) []navLink {
	if u == nil {
		return nil
	}
	items := []navLink{{"Dashboard", "/"}}
	if u.Role == auth.Buyer {
		items = append(items, navLink{"Your CCG", "/ccgs/" + u.CCGCode}, navLink{"Returns", "/ccgs/" + u.CCGCode + "/returns"})
	} else {
		items = append(items, navLink{"CCGs", "/ccgs"}, navLink{"Returns", "/returns"}, navLink{"Performance", "/performance"})
	}
	items = append(items, navLink{"Reconciliation", "/reconciliation"})
	items = append(items, navLink{"Procurements", "/procurements"}, navLink{"Orders", "/orders"}, navLink{"Catalogue", "/catalogue"})
	items = append(items, navLink{"Users", "/admin/users"}, navLink{"Issue returns", "/admin/returns"}, navLink{"Jobs", "/admin/jobs"}, navLink{"Imports", "/admin/imports"}, navLink{"Audit log", "/admin/audit"})

	var out []navLink
	for _, it := range items {
		if a, ok := s.pageAccess[s.patternOf(it.href)]; ok && a.allows(u) {
			out = append(out, it)
		}
	}
	return out
}

type navLink struct{ label, href string }

// patternOf finds the route pattern a path is served by.
func (s *Server) patternOf(path string) string {
	rctx := chi.NewRouteContext()
	if s.mux.Match(rctx, http.MethodGet, path) {
		return rctx.RoutePattern()
	}
	return ""
}
