// Linux APIs the Glibc module does not export: epoll and eventfd (HTTPServer/EventLoop.swift) and
// malloc_trim (Service/Service.swift, returning freed session memory to the OS).
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <malloc.h>
