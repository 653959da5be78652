/* list.h: an intrusive doubly linked list. The node lives inside the listed
 * struct, so adding and removing never allocate. A head is a node linked to
 * itself. A leaf. */
#ifndef TANDEM_LIST_H
#define TANDEM_LIST_H

#include <stddef.h>

typedef struct list_node {
    struct list_node *prev, *next;
} list_node;

#define list_entry(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))
#define list_for_each_safe(pos, tmp, head)                                                        \
    for ((pos) = (head)->next, (tmp) = (pos)->next; (pos) != (head); (pos) = (tmp), (tmp) = (pos)->next)

static inline void list_init(list_node *head) { head->prev = head->next = head; }
static inline int list_empty(const list_node *head) { return head->next == head; }
static inline int list_linked(const list_node *n) { return n->next != n; }

static inline void list_add_tail(list_node *head, list_node *n)
{
    n->prev = head->prev;
    n->next = head;
    head->prev->next = n;
    head->prev = n;
}

static inline void list_del(list_node *n)
{
    n->prev->next = n->next;
    n->next->prev = n->prev;
    n->prev = n->next = n;
}

#endif
