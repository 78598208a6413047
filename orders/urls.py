from django.urls import path

from orders.views import orders_hook

app_name = "orders"
urlpatterns = [path("<slug:slug>/orders", orders_hook, name="hook")]
