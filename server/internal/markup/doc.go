// Package markup writes HTML pages without templates: markup is written
// only from constants, embedded files and fragments this package built;
// every other value is escaped as text or attribute, and a URL is checked
// before it goes into a link. No reflection: the agent's linker keeps only
// the methods it calls.
package markup
