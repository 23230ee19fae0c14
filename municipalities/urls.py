from django.urls import path

from municipalities import views

app_name = "municipalities"

urlpatterns = [
    path("gemeinden/", views.gemeinde_search, name="search"),
    path("gemeinden/<str:ags>/", views.gemeinde_detail, name="detail"),
    path("quellen/", views.sources, name="sources"),
]
