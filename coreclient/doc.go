// Package coreclient reads and writes the core/v1 objects syncgate keeps
// as itself (Events, Secrets, ConfigMaps) through a REST client whose
// scheme holds core/v1 alone. client-go's clientset registers every API
// group's types when the program starts, which costs the agent memory
// whether or not it ever uses them.
package coreclient
