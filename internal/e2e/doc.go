// Package e2e drives the tracker in headless Chromium through the journeys
// people take: a buyer looking at their CCG, a reviewer searching CCGs, an
// administrator creating a user who then sets their password, and the
// session timeout warning. Every page visited is checked with axe-core
// against WCAG 2.2 AA.
//
// The package holds tests only. They need TEST_DATABASE_URL (set by
// `make test`), Debian's chromium (CHROMIUM_PATH, else /usr/bin/chromium)
// and axe-core in web/node_modules (`make assets`).
package e2e
