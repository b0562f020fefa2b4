#!/usr/bin/env bash
# Sourced by the chapter: names used by the commands.
NAMESPACE="${NAMESPACE:-gateway-demo}"
export NAMESPACE
