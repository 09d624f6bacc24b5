/**
 * Reverse-mode differentiation over the tensor ops, modules, parameters and optimisers (issue: autograd).
 * Empty until that issue lands.
 */
package dev.distillery.autograd;
