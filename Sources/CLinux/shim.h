// Linux APIs the Glibc module does not export: epoll and eventfd (imported only by HTTPServer/EventLoop.swift).
#include <sys/epoll.h>
#include <sys/eventfd.h>
