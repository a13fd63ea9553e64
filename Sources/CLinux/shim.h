// Linux APIs the Glibc module does not export: epoll and eventfd (used only by HTTPServer/EventLoop.swift).
#include <sys/epoll.h>
#include <sys/eventfd.h>
