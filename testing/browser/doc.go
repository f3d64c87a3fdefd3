// Package browser drives a headless Chromium for tests that look at a page
// as a person would: load it, wait for what should appear, collect what the
// console and the network complained about, and take a screenshot.
package browser
